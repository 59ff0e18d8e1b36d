"""The Dataflow flex template's entry point, run by the launcher inside docker/pipeline.Dockerfile.

The launcher calls `python flex_template_main.py --input=SPEC --output=gs://... [--config=PATH]`
followed by Dataflow's own options (`--runner`, `--project`, `--region`, `--temp_location`, ...);
`gristmill run` keeps the first and hands the rest to Beam untouched.
"""

import sys

from gristmill.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "--no-progress", *sys.argv[1:]]))
