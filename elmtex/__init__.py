"""Shared code for the ELMTEX pipeline: the stage scripts at the repository root import it.

Data flows one way: data/<set>/*.jsonl -> data/cache/<run>.jsonl -> data/results/<run>/.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # repository root; relative config paths resolve here

__version__ = "0.1.0"
