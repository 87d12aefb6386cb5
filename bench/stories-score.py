#!/usr/bin/env python3
"""Scores newsd's events on a set with gold events, and TF-IDF baselines on the same articles.

Usage: stories-score.py SCORER ARTICLES.jsonl PRED.json [PRED.json ...]
Each PRED is newsd's {article id: event id} from one feed order; prints one JSON line per order (and whether the
partition equals the first order's), then one per baseline: TF-IDF cosine (scikit-learn's TfidfVectorizer defaults,
with its English stop words) with single link at 0.5 and complete link at 0.1, the references the set's
README names.
"""
import importlib.util
import itertools
import json
import math
import re
import sys
from collections import Counter

scorer_path, set_path, *predictions = sys.argv[1:]
spec = importlib.util.spec_from_file_location("scorer", scorer_path)
scorer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scorer)
articles = [json.loads(line) for line in open(set_path, encoding="utf-8") if line.strip()]
gold = {a["id"]: a["event_id"] for a in articles}


def line(tool, result, **extra):
    pairwise, bcubed = result["pairwise"], result["bcubed"]
    print(json.dumps({"bench": "stories", "tool": tool, "articles": result["articles"], "events": result["events"],
                      "clusters": result["clusters"], "pairwise_p": round(pairwise[0], 3),
                      "pairwise_r": round(pairwise[1], 3), "pairwise_f1": round(pairwise[2], 3),
                      "bcubed_p": round(bcubed[0], 3), "bcubed_r": round(bcubed[1], 3),
                      "bcubed_f1": round(bcubed[2], 3), **extra}))


def partition(labels):
    groups = {}
    for article, label in labels.items():
        groups.setdefault(label, set()).add(article)
    return sorted(sorted(group) for group in groups.values())


first = None
for order, path in enumerate(predictions, 1):
    labels = json.load(open(path))
    first = first or partition(labels)
    line("newsd", scorer.score(gold, labels), order=order, same_partition_as_order_1=partition(labels) == first)

STOP = set("""a about above after again against all almost alone along already also although always am among an and
another any anyhow anyone anything anyway anywhere are around as at back be became because become becomes been before
beforehand behind being below beside besides between beyond both but by can cannot could did do does done down due
during each eg either else elsewhere enough etc even ever every everyone everything everywhere except few first for
former formerly from further had has have he hence her here hereafter hereby herein hers herself him himself his how
however i ie if in indeed into is it its itself last latter least less ltd many may me meanwhile might more moreover
most mostly much must my myself namely neither never nevertheless next no nobody none noone nor not nothing now nowhere
of off often on once one only onto or other others otherwise our ours ourselves out over own per perhaps please rather
re same seem seemed seeming seems several she should since so some somehow someone something sometime sometimes
somewhere still such than that the their them themselves then thence there thereafter thereby therefore therein
thereupon these they this those though through throughout thru thus to together too toward towards under until up upon
us very via was we well were what whatever when whence whenever where whereafter whereas whereby wherein whereupon
wherever whether which while whither who whoever whole whom whose why will with within without would yet you your
yours yourself yourselves""".split())
vectors = {}
counts = {a["id"]: Counter(w for w in re.findall(r"(?u)\b\w\w+\b", (a["title"] + " " + a["text"]).lower())
                           if w not in STOP) for a in articles}
df = Counter(term for c in counts.values() for term in c)
n = len(articles)
for article, c in counts.items():
    v = {t: x * (math.log((1 + n) / (1 + df[t])) + 1) for t, x in c.items()}
    norm = math.sqrt(sum(x * x for x in v.values())) or 1
    vectors[article] = {t: x / norm for t, x in v.items()}
ids = sorted(vectors)
sim = {}
for a, b in itertools.combinations(ids, 2):
    u, v = (vectors[a], vectors[b]) if len(vectors[a]) < len(vectors[b]) else (vectors[b], vectors[a])
    sim[a, b] = sim[b, a] = sum(x * v.get(t, 0) for t, x in u.items())


def single_link(threshold):
    parent = {i: i for i in ids}

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i
    for a, b in itertools.combinations(ids, 2):
        if sim[a, b] >= threshold:
            parent[find(a)] = find(b)
    return {i: find(i) for i in ids}


def complete_link(threshold):
    clusters = [[i] for i in ids]
    linkage = {(x, y): sim[ids[x], ids[y]] for x, y in itertools.combinations(range(len(ids)), 2)}
    alive = set(range(len(ids)))
    while True:
        best = max(((s, x, y) for (x, y), s in linkage.items() if x in alive and y in alive and s >= threshold),
                   default=None)
        if best is None:
            break
        _, x, y = best
        clusters[x] += clusters[y]
        alive.discard(y)
        for z in alive - {x}:
            key = (min(x, z), max(x, z))
            linkage[key] = min(linkage[key], linkage[(min(y, z), max(y, z))])
    return {i: x for x in alive for i in clusters[x]}


line("tf-idf cosine >= 0.5, single link", scorer.score(gold, single_link(0.5)))
line("tf-idf, complete link, distance 0.90", scorer.score(gold, complete_link(0.1)))
