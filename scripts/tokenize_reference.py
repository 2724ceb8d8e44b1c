#!/usr/bin/env python3
"""Independent reference tokenizer for the RWKV World vocabulary.

Used to produce the expected ids in tests/tokenizer/world_golden_test.cc. Deliberately shares
nothing with the C++ implementation: each vocab line is decoded by Python's own
ast.literal_eval, tokens are kept in a plain dict, and encoding tries every length from the
longest token down to 1 at each position (greedy longest byte match, as BlinkDL's reference
TRIE_TOKENIZER does). Slow, but obviously right.

Usage:
  scripts/tokenize_reference.py [--vocab PATH] [--cpp] TEXT...   (TEXT is a Python literal,
                                                                  e.g. "'hi\\n'" or "b'\\xff'")
  echo -n 'some text' | scripts/tokenize_reference.py --stdin
"""
import argparse
import ast
import os
import sys

DEFAULT_VOCAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models",
                             "rwkv_vocab_v20230424.txt")


def load_vocab(path):
    token_to_id = {}
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            first, last = line.index(" "), line.rindex(" ")
            value = ast.literal_eval(line[first + 1:last])
            if isinstance(value, str):
                value = value.encode("utf-8")
            assert isinstance(value, bytes)
            assert len(value) == int(line[last + 1:]), line
            token_to_id[value] = int(line[:first])
    return token_to_id


def encode(token_to_id, data):
    max_len = max(len(t) for t in token_to_id)
    ids, pos = [], 0
    while pos < len(data):
        for n in range(min(max_len, len(data) - pos), 0, -1):
            tid = token_to_id.get(data[pos:pos + n])
            if tid is not None:
                ids.append(tid)
                pos += n
                break
        else:
            raise ValueError(f"no token for byte {data[pos]:#x}")
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", default=DEFAULT_VOCAB)
    ap.add_argument("--cpp", action="store_true", help="print C++ initializer lists")
    ap.add_argument("--stdin", action="store_true", help="encode the bytes of stdin")
    ap.add_argument("texts", nargs="*", help="Python str/bytes literals to encode")
    args = ap.parse_args()
    vocab = load_vocab(args.vocab)
    inputs = [sys.stdin.buffer.read()] if args.stdin else []
    for t in args.texts:
        v = ast.literal_eval(t)
        inputs.append(v.encode("utf-8") if isinstance(v, str) else v)
    for data in inputs:
        ids = encode(vocab, data)
        if args.cpp:
            print("{" + ", ".join(map(str, ids)) + "}")
        else:
            print(" ".join(map(str, ids)))


if __name__ == "__main__":
    main()
