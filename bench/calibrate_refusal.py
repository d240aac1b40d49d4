"""Calibrates the refusal threshold: best vector similarity of in-scope (dev) vs off-topic questions.

    python bench/calibrate_refusal.py --db INDEX_OF_THE_CORPUS [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.retrieval.evaluation import load_questions  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402

OFF_TOPIC = [
    "How do I bake sourdough bread with a stiff starter?",
    "What is the capital of Australia?",
    "How do I configure a Kubernetes ingress controller with nginx annotations?",
    "What are the opening hours of the Louvre museum?",
    "How do I reset my Nintendo Switch to factory settings?",
    "Which football club won the 1998 World Cup final?",
    "How do I set up Google Cloud BigQuery scheduled queries?",
    "What is the best way to train a puppy to stop biting?",
    "How do I change the oil in a 2012 Honda Civic?",
    "Explain the rules of cricket's leg before wicket.",
    "How do I write a React useEffect cleanup function?",
    "What is the boiling point of water on Mount Everest?",
]


def best_similarity(index: DocsIndex, question: str) -> float:
    return max((h.similarity for h in index.search(question, k=20) if h.similarity is not None), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    index = DocsIndex(args.db)
    dev = sorted(round(best_similarity(index, q.question), 3) for q in load_questions(DEV_QUESTIONS))
    off = sorted(round(best_similarity(index, q), 3) for q in OFF_TOPIC)
    print(json.dumps({"dev_min": dev[0], "dev_p10": dev[len(dev) // 10], "off_topic_max": off[-1],
                      "suggested_threshold": round((dev[0] + off[-1]) / 2, 2), "dev": dev, "off_topic": off}, indent=2))


if __name__ == "__main__":
    main()
