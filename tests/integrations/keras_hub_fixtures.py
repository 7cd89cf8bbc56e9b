"""Tiny tokenizer vocabularies and sentences that the KerasHub test scripts share (run by
path, from this folder)."""

import io

import sentencepiece

# A GPT-2 style byte-pair vocabulary ("Ġ" marks a leading space) and its merges.
BPE_VOCAB = {"<|endoftext|>": 0, "a": 1, "b": 2, "c": 3, "Ġ": 4, "ab": 5, "Ġa": 6, "Ġab": 7,
             "abc": 8, "Ġc": 9}
BPE_MERGES = ["a b", "Ġ a", "Ġa b", "ab c", "Ġ c"]
WORDPIECE_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "qu", "##ick", "brown",
                   "fox", "."]
SENTENCES = ["the quick brown fox jumps", "over the lazy dog", "the dog sleeps"]


def sentencepiece_proto(pad, bos, eos, *extra):
    """A tiny word-level SentencePiece model, trained offline."""
    buf = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 5), model_writer=buf, vocab_size=30,
        hard_vocab_limit=False, model_type="word", pad_id=0, bos_id=1, eos_id=2, unk_id=3,
        pad_piece=pad, bos_piece=bos, eos_piece=eos, unk_piece="<unk>",
        user_defined_symbols=list(extra), num_threads=1, minloglevel=3)
    return buf.getvalue()
