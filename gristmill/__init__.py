"""gristmill: Common Crawl WARCs to clean pretraining data, on Apache Beam."""

__version__ = "0.1.0"
