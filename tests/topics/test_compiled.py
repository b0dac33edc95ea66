"""UMAP's compiled code is kept on disk: a second process loads it instead of compiling it again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from numba.core.dispatcher import Dispatcher
    import umap.layouts, umap.umap_
    from toolkit.topics.compiled import cache_umap_compilations
    from toolkit.topics.model import NeighbourUMAP

    enabled = cache_umap_compilations()
    again = cache_umap_compilations()
    X = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    out = NeighbourUMAP(n_neighbors=10, n_components=2, random_state=1).fit_transform(X)
    functions = {n: f for m in (umap.layouts, umap.umap_) for n, f in vars(m).items() if isinstance(f, Dispatcher)}
    print(json.dumps({"enabled": enabled, "again": again, "shape": list(out.shape),
                      "hits": {n: sum(f.stats.cache_hits.values()) for n, f in functions.items()},
                      "misses": {n: sum(f.stats.cache_misses.values()) for n, f in functions.items()},
                      "first": [round(float(v), 4) for v in out[0]]}))
""")


@pytest.mark.slow
def test_a_second_process_loads_umaps_compiled_code_from_the_disk_cache(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    def run() -> dict:
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert first["enabled"] > 5 and first["again"] == first["enabled"]
    assert any((tmp_path / "numba").rglob("*.nbi"))
    # the layout's epoch and the graph's two steps: compiled by the first process, read back by the second
    for name in ("_nb_optimize_layout_euclidean_single_epoch", "smooth_knn_dist", "compute_membership_strengths"):
        assert first["misses"][name] == 1 and first["hits"][name] == 0, name
        assert second["hits"][name] == 1 and second["misses"][name] == 0, name
    assert second["first"] == first["first"] and second["shape"] == [300, 2]  # the same layout
