"""Taking needless work out of an exported model graph before it ships.

``torch.onnx.export`` writes scaled-dot-product attention with a guard after each softmax,
``Where(IsNaN(p), 0, p)``, for rows whose every key is masked (softmax of nothing is NaN). The
triage models never see such a row: every encoded text starts with ``[CLS]``, so each row has
at least one key. The guards cost about 5 % of a model pass on posts of 33 tokens and change
no output (the rewritten models give bit-identical logits; tests/triage/test_graph.py).

Training applies this before quantising (amparo.triage.training); models exported before it
existed are rewritten in place with ``python -m amparo.triage.graph DIR [DIR ...]``, which
also updates the model card (digest, model id, and what was done). Needs the ``onnx``
package, as training does; running the models does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["drop_nan_guards", "rewrite"]


def drop_nan_guards(model: Any) -> int:  # onnx.ModelProto, changed in place
    """Remove every ``Where(IsNaN(x), c, x)`` (consumers read ``x`` instead); how many."""
    graph = model.graph
    produced = {o: n for n in graph.node for o in n.output}
    users: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    replaced: dict[str, str] = {}
    dropped: set[int] = set()
    for node in graph.node:
        if node.op_type != "Where":
            continue
        test = produced.get(node.input[0])
        if test is None or test.op_type != "IsNaN" or test.input[0] != node.input[2]:
            continue
        replaced[node.output[0]] = node.input[2]
        dropped.add(id(node))
        if users.get(test.output[0]) == 1:
            dropped.add(id(test))
    outputs = {o.name for o in graph.output}
    if outputs & set(replaced):
        raise ValueError("a guard's output is a graph output; nothing was changed")
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in replaced:
                node.input[i] = replaced[name]
    freed = {name for n in graph.node if id(n) in dropped for name in n.input}
    still = {name for n in graph.node if id(n) not in dropped for name in n.input}
    for node in graph.node:  # the guards' constants, which onnxruntime would warn are unused
        if node.op_type == "Constant" and node.output[0] in freed - still - outputs:
            dropped.add(id(node))
    kept = [n for n in graph.node if id(n) not in dropped]
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for n in kept for name in n.input}
    unused = [i for i in graph.initializer if i.name in freed and i.name not in used]
    for initializer in unused:
        graph.initializer.remove(initializer)
    return len(replaced)


def rewrite(directory: Path) -> dict[str, Any]:
    """Drop the guards from ``directory/model.onnx`` in place and bring its card up to date;
    the card as written. A model without guards is left as it is."""
    import onnx

    path, card_path = directory / "model.onnx", directory / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    model = onnx.load(str(path))
    removed = drop_nan_guards(model)
    if not removed:
        return dict(card)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    before = str(card["model_id"])
    card.update(
        model_id=f"{before.rsplit('-', 1)[0]}-{digest[:12]}",
        sha256=digest,
        rewritten={"from": before, "removed": f"{removed} softmax NaN guards",
                   "by": "amparo.triage.graph"},
    )  # fmt: skip
    card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return dict(card)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m amparo.triage.graph",
        description="Remove the softmax NaN guards from exported triage models, in place.",
    )
    parser.add_argument("directories", nargs="+", type=Path, metavar="DIR",
                        help="a model directory (model.onnx and card.json)")  # fmt: skip
    for directory in parser.parse_args().directories:
        card = rewrite(directory)
        print(f"{directory}: {card['model_id']}")


if __name__ == "__main__":
    main()
