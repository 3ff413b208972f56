"""The atheris (libFuzzer, coverage-guided) target of the fuzz suite, run by ``test_atheris.py`` in a subprocess.

Each input picks an array (codec chain) and a stored key, replaces that key's bytes with the fuzzer's
bytes (or splices them into the original), and reads the array. A documented error naming the key is
fine; anything else propagates, and atheris reports it as a crash with the input that caused it.

Run by hand: ``python tests/fuzz/atheris_target.py -runs=2000 -seed=1``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["zarrlayered"]):
    import zarrlayered
    from zarrlayered.stores.memory import MemoryStore

from fuzz_helpers import CHAINS, check_error, make_case

NAMES = sorted(CHAINS)
CASES = [make_case(name) for name in NAMES]
KEYS = [sorted(case.documents) for case in CASES]


def test_one_input(data: bytes) -> None:
    """Read an array whose one stored key holds fuzzed bytes."""
    provider = atheris.FuzzedDataProvider(data)
    which = provider.ConsumeIntInRange(0, len(CASES) - 1)
    case, keys = CASES[which], KEYS[which]
    key = keys[provider.ConsumeIntInRange(0, len(keys) - 1)]
    documents = dict(case.documents)
    original = documents[key]
    if provider.ConsumeBool():  # splice the fuzzed bytes into the original
        at = provider.ConsumeIntInRange(0, len(original))
        documents[key] = original[:at] + provider.ConsumeBytes(provider.remaining_bytes()) + original[at + 8 :]
    else:
        documents[key] = provider.ConsumeBytes(provider.remaining_bytes())
    try:
        zarrlayered.open_array(MemoryStore(documents), path="arr", mode="r")[...]
    except Exception as exc:
        node = key.rpartition("/")[0]
        check_error(exc, (key, repr(node), *[k for k in documents if k.startswith("arr/")]))


def main() -> None:
    """Run libFuzzer with the command-line options (``-runs``, ``-seed``, ``-max_len``...)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
