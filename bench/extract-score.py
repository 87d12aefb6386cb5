#!/usr/bin/env python3
"""Scores saved predictions on one extraction set with the set's own scorer (word 4-gram shingles, per-page
precision and recall averaged) and prints one JSON line.

    extract-score.py SCORER SET_DIR SET_NAME TOOL PREDICTIONS.json [--list]

With --list, also names the pages that came out empty or sharing nothing with the truth while the text was there.
"""
import importlib.util
import json
import sys

scorer_path, data, name, tool, predictions = sys.argv[1:6]
spec = importlib.util.spec_from_file_location("scorer", scorer_path)
scorer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scorer)

truth = json.load(open(f"{data}/ground-truth.json"))
predicted = json.load(open(predictions))
counts, empty, unrelated = [], [], []
for page, item in sorted(truth.items()):
    text = predicted.get(page, {}).get("articleBody", "") or ""
    counts.append(scorer.page_counts(item["articleBody"], text))
    if item["articleBody"].strip():
        if not text.strip():
            empty.append(page)
        elif counts[-1][0] == 0:
            unrelated.append(page)
f1, p, r = scorer.summarize(counts)
line = {"bench": "extract", "set": name, "tool": tool, "pages": len(truth), "f1": round(f1, 3),
        "precision": round(p, 3), "recall": round(r, 3), "empty": len(empty), "unrelated": len(unrelated)}
if "--list" in sys.argv:
    line["empty_pages"] = empty
    line["unrelated_pages"] = unrelated
print(json.dumps(line))
