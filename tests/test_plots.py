import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fmnist_utils import plots  # noqa: E402


def test_save_figure_writes_both_formats_reproducibly(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    first = plots.save_figure(fig, "line", tmp_path)
    pdf_bytes = (tmp_path / "line.pdf").read_bytes()
    plt.close(fig)
    assert [p.name for p in first] == ["line.png", "line.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.pdf", "line.png"]  # no temp files left
    assert b"/CreationDate" not in pdf_bytes  # no timestamp: an unchanged figure rewrites byte-identical
