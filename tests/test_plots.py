import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fmnist_utils.present import plots  # noqa: E402


def test_save_figure_writes_both_formats_reproducibly(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert plots.save_figure(fig, "line", tmp_path) is fig
    pdf_bytes = (tmp_path / "line.pdf").read_bytes()
    plt.close(fig)
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
    assert [t.get_text() for t in texts] == ["first; second", "apart"]
    plt.close(fig)


def test_copies_of_one_design_share_a_label_a_little_farther_apart_than_other_points():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set(xlim=(0, 10), ylim=(0, 1))
    xs, ys = [2.0, 2.0, 7.0, 7.0], [0.50, 0.53, 0.50, 0.53]  # each pair about 7 points apart
    texts = plots.label_points(ax, xs, ys, ["ResNet-BN, copy 2", "ResNet-BN, copy 1", "CNN-3", "CNN-5"])
    assert [t.get_text() for t in texts] == ["ResNet-BN, copies 1, 2", "CNN-3", "CNN-5"]
    plt.close(fig)


def test_copies_of_one_design_at_one_place_share_a_short_label():
    assert plots.shared_label(["ResNet-BN, copy 4", "ResNet-BN, copy 2"]) == "ResNet-BN, copies 2, 4"
    assert plots.shared_label(["ResNet-BN, copy 2", "CNN-5, copy 3"]) == "ResNet-BN, copy 2; CNN-5, copy 3"
    assert plots.shared_label(["Tuned CNN", "Student CNN-5"]) == "Tuned CNN; Student CNN-5"


def test_frontier_draws_each_reference_accuracy_as_a_labelled_line():
    singles = pd.DataFrame({"minutes": [5.0, 9.0], "accuracy": [0.935, 0.94]}, index=["a", "b"])
    growth = pd.DataFrame({"train_minutes": [9.0, 14.0], "test_accuracy": [0.94, 0.944]})
    fig = plots.accuracy_vs_minutes(singles, growth, {"theirs: 95.09%": 0.9509})
    ax = fig.axes[0]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in dashed] == [0.9509]
    assert "theirs: 95.09%" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_ylim()[1] >= 0.9509  # the line is inside the axes, not clipped away
    assert ax.get_xscale() == "log"  # minutes span two decades: the short runs would crowd on a linear axis


def test_labels_keep_off_a_line_across_the_axes():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.scatter([1.0, 2.0], [0.5, 0.9])
    ax.set(xlim=(0, 3), ylim=(0, 1))
    line = ax.axhline(0.53)  # just above the first point: a label above it would cross the line
    texts = plots.label_points(ax, [1.0], [0.5], ["a"])
    fig.canvas.draw()
    box = texts[0].get_window_extent()
    y = line.get_transform().transform([[0.5, 0.53]])[0, 1]
    assert not box.y0 <= y <= box.y1


def test_each_label_is_nearest_its_own_point_or_drawn_with_a_leader_line():
    fig, ax = plt.subplots(figsize=(4, 3))
    xs, ys = [4.7, 5.2, 5.5, 10.4], [0.9375, 0.9370, 0.9343, 0.9385]  # the frontier's cnn_recipe crowd
    ax.scatter(xs, ys)
    ax.set(xlim=(0.8, 80), ylim=(0.90, 0.955), xscale="log")
    texts = plots.label_points(ax, xs, ys, ["cnn_recipe", "cnn_recipe_seed2", "cnn_recipe_deeper", "cnn_recipe_deep"])
    renderer = fig.canvas.get_renderer()
    points = ax.transData.transform(np.column_stack([xs, ys]))
    for k, text in enumerate(texts):
        if text.arrow_patch is not None:
            continue
        box = text.get_window_extent(renderer)
        gaps = [np.hypot(max(box.x0 - x, 0, x - box.x1), max(box.y0 - y, 0, y - box.y1)) for x, y in points]
        assert int(np.argmin(gaps)) == k, text.get_text()
    assert any(t.arrow_patch is not None for t in texts)  # the crowd needs at least one leader line
    plt.close(fig)
