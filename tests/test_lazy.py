from __future__ import annotations

import subprocess
import sys
import textwrap


def test_a_hook_runs_when_the_module_is_imported_and_at_once_if_it_was():
    code = textwrap.dedent("""
        import sys
        from sandbox.lazy import when_imported
        seen = []
        when_imported("colorsys", lambda m: seen.append(m.__name__))
        assert seen == [] and "colorsys" not in sys.modules
        import colorsys
        assert seen == ["colorsys"]
        when_imported("colorsys", lambda m: seen.append("again"))
        assert seen == ["colorsys", "again"]
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
