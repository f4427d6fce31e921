"""The receive buffers of chapter 4's experiments (experiments/_ch4.py,
RECORDS_RCVBUF): with one connection the record variants get the standard
path's buffering, the baselines and the many-connection experiments keep the
lab's buffer."""

from __future__ import annotations

import importlib

from aatcp import runner


def _b(args: list[str]) -> str | None:
    return args[args.index("-b") + 1] if "-b" in args else None


def test_one_connection_record_variants_get_the_standard_paths_buffering() -> None:
    ch4 = importlib.import_module("experiments._ch4")
    want = str(64 * 1024 + 256 * 1024)
    for name, records in (("fig4_5", ("aa_batch", "aa")), ("fig4_9", ("aa",))):
        runner.load_experiment(name)  # validates it
        exp = importlib.import_module(f"experiments.{name}")
        assert set(exp.VARIANT_ARGS) == set(exp.READER_ARGS)
        for v, args in exp.VARIANT_ARGS.items():
            assert _b(args) == (want if v in records else None), (name, v, args)
            assert _b(exp.READER_ARGS[v]) is None, (name, v)
        assert want == str(ch4.RECORDS_RCVBUF)


def test_scaling_experiments_keep_the_labs_buffer() -> None:
    for name, src in (("fig4_6", "fig4_5"), ("fig4_10", "fig4_9")):
        runner.load_experiment(name)
        exp = importlib.import_module(f"experiments.{name}")
        assert exp.READER_ARGS is importlib.import_module(f"experiments.{src}").READER_ARGS


def test_the_batch_variant_reads_lines_in_batches() -> None:
    fig4_5 = importlib.import_module("experiments.fig4_5")
    assert "-g" in fig4_5.VARIANT_ARGS["aa_batch"]
    assert "-g" not in fig4_5.VARIANT_ARGS["aa"]
    runner.load_experiment("fig4_5")
    assert fig4_5.EXPERIMENT.variants == ("aa_batch", "aa", "standard")
