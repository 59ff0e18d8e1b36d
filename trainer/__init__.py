"""The pretraining side (issue 7): tokenizer, token shards, GPT, DDP training loop."""
