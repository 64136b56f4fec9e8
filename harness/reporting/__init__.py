"""Reports and their comparison: the suite's JSON report and table (``report``), reading and
checking report files against the JSON Schema in ``schema/`` (``loading``), the
kernel-by-kernel model (``comparison``), the causes of its differences (``causes``), its
views and renderers (``compare_view``, ``compare_md``, ``compare_html``, ``plots``) and the
writer of compare.md/compare.html (``writing``).
It may import ``model`` and ``record``; never the peers, the plumbing (``netns``), the
sockets, the cases or the guests: a report collected elsewhere is compared without root.
"""

from .comparison import Comparison, build_comparison, load_comparison
from .loading import ReportError, collect_paths, load_report, parse_release, validate_report
from .report import table
from .writing import write_comparison

__all__ = [
    "Comparison", "ReportError", "build_comparison", "collect_paths", "load_comparison",
    "load_report", "parse_release", "table", "validate_report", "write_comparison",
]
