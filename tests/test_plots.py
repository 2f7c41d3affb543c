import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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


def test_labels_of_close_points_overlap_neither_each_other_nor_the_axes_lines():
    fig, ax = plt.subplots(figsize=(4, 3))
    xs, ys = [5.6, 6.5, 6.2, 1.6, 1.7], [0.9361, 0.9369, 0.9350, 0.9124, 0.9093]  # the frontier's crowded corners
    ax.scatter(xs, ys)
    ax.plot([7.4, 13, 24], [0.9367, 0.9383, 0.9407])
    texts = plots.label_points(ax, xs, ys, ["a_long_name", "another_long_name", "a_third_name", "b", "c"])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert [t.get_text() for t in texts] == ["a_long_name", "another_long_name", "a_third_name", "b", "c"]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    line = ax.transData.transform(np.column_stack([np.linspace(7.4, 13, 200), np.linspace(0.9367, 0.9383, 200)]))
    assert not any(((line >= b.p0) & (line <= b.p1)).all(axis=1).any() for b in boxes)
    plt.close(fig)


def test_points_on_top_of_each_other_share_one_label():
    fig, ax = plt.subplots(figsize=(4, 3))
    xs, ys = [1.0, 1.0, 5.0], [0.5, 0.5001, 0.9]
    ax.scatter(xs, ys)
    texts = plots.label_points(ax, xs, ys, ["first", "second", "apart"])
    assert [t.get_text() for t in texts] == ["first, second", "apart"]
    plt.close(fig)
