"""What a reader sees for each model: a readable name and its layers in words, read from the recorded spec.

The code and the results files identify models by ids (``cnn_final_seed2``); the report, its tables and
its figures use the names defined here, once.
"""

from __future__ import annotations

import re

from .words import in_words

# Ours: "CNN-k" is a network of k 3×3 conv layers with BatchNorm after all but the first (see models.vgg_bn).
MODEL_NAMES = {
    "linear": "Linear softmax",
    "mlp_256": "MLP 256",
    "mlp_256_128_100_dropout": "MLP 256-128-100, dropout",
    "mlp_128_relu": "MLP 128, ReLU",
    "mlp_128_tanh": "MLP 128, tanh",
    "mlp_128_sigmoid": "MLP 128, sigmoid",
    "mlp_128_identity": "MLP 128, no activation",
    "mlp_small": "Small MLP (2 hidden layers)",
    "mlp_medium": "Medium MLP (4 hidden layers)",
    "mlp_large": "Large MLP (6 hidden layers)",
    "mlp_bn_aug_cosine": "MLP-BN (ours)",
    "mlp_tuned": "Tuned MLP",
    "cnn_1conv_mlp": "1-conv CNN",
    "cnn_2conv": "2-conv CNN",
    "cnn_2conv_aug": "2-conv CNN, flips",
    "lenet_bn": "LeNet-BN",
    "vgg_bn_deep": "CNN-5, 6 epochs",
    "cnn_recipe": "CNN-2 (ours)",
    "cnn_recipe_seed2": "CNN-2, seed 2",
    "cnn_recipe_deeper": "CNN-3",
    "cnn_recipe_harder": "CNN-3, shifts + erasing",
    "cnn_recipe_smoothed": "CNN-3, shifts + erasing + smoothing",
    "cnn_recipe_deep": "CNN-5, 18 epochs",
    "cnn_final": "CNN-5, 30 epochs (ours)",
    "cnn_final_seed2": "CNN-5, 30 epochs, seed 2",
    "cnn_tuned": "Tuned CNN",
    "cnn_ensemble": "Ensemble of all members",
    "cnn_ensemble_chosen": "Ensemble chosen on validation",
    "cnn_student": "Student ResNet-BN",
    "lite0_frozen": "EfficientNet-Lite0, frozen",
    "lite0_finetuned": "EfficientNet-Lite0, top fine-tuned",
    "mlp_init_he": "MLP 256, He init",
    "mlp_init_glorot": "MLP 256, Glorot init, Adam",
    "mlp_init_poor": "MLP 256, N(0, 1) init",
    "mlp_sgd": "MLP 256, SGD",
    "mlp_rmsprop": "MLP 256, RMSprop",
    "mlp_adam": "MLP 256, Adam",
    "cnn_max_dropout": "Small CNN, max pool, dropout",
    "cnn_max_batchnorm": "Small CNN, max pool, BN",
    "cnn_average_dropout": "Small CNN, avg pool, dropout",
    "cnn_average_batchnorm": "Small CNN, avg pool, BN",
}
# A member an ensemble step trained itself: a copy of one of its designs, numbered within it.
MEMBER = re.compile(r"^(?P<ensemble>\w+?)__(?P<design>[a-z]+)(?P<index>\d+)$")
MEMBER_DESIGNS = {"tuned": "Tuned CNN", "hand": "CNN-5", "residual": "ResNet-BN"}
# A further seed of a design-study model (fmnist_utils.compute.design.copy_name).
SEED_COPY = re.compile(r"^(?P<model>\w+)_seed(?P<copy>\d+)$")


def display_name(model_id: str, epochs: int | None = None) -> str:
    """The readable name of a model id; an ensemble's own members are named after the network they train
    (``epochs``: their schedule). An id with no name is an error: a reader never sees an id."""
    if model_id in MODEL_NAMES:
        return MODEL_NAMES[model_id]
    member = MEMBER.match(model_id)
    if member and member["design"] in MEMBER_DESIGNS:
        schedule = f", {epochs} epochs" if epochs and member["design"] == "hand" else ""
        return f"{MEMBER_DESIGNS[member['design']]}{schedule}, copy {int(member['index']) + 1}"
    copy = SEED_COPY.match(model_id)
    if copy and copy["model"] in MODEL_NAMES:
        return f"{MODEL_NAMES[copy['model']]}, seed {copy['copy']}"
    raise KeyError(f"No readable name for model {model_id!r}: add it to fmnist_utils.present.names.MODEL_NAMES")


def _units(units) -> str:
    return "-".join(str(u) for u in units)


def _conv_blocks(blocks, first_bn: bool) -> str:
    parts = []
    for b, block in enumerate(blocks):
        convs = [f"conv{f}" + ("" if b == 0 and i == 0 and not first_bn else "+BN") for i, f in enumerate(block)]
        parts.append(", ".join(convs) + ", pool")
    return ", ".join(parts)


def layers(spec: dict) -> str:
    """A model's layers in one line from its recorded spec, without the MLPs' activation (Table 1 lists those once
    per network); convolutions are 3×3 unless named; 'pool' is 2×2 max-pooling."""
    arch, h = spec["arch"], spec.get("hparams", {})
    if arch == "linear":
        return "softmax on the 784 pixels"
    if arch == "mlp":
        words = [f"dense {_units(h.get('hidden_units', (256,)))}" + ("+BN" if h.get("batch_norm") else "")]
        if h.get("dropout"):
            words.append(f"dropout {h['dropout']:g}")
        return ", ".join(words)
    if arch == "cnn_1conv_mlp":
        return "conv16, pool, dense 256-128-100, dropout 0.25/0.4"
    if arch == "cnn_2conv":
        return "conv16, pool, conv32, pool, dense 256, dropout 0.25/0.5"
    if arch == "lenet_bn":
        first = "conv32 5×5" + ("+BN" if h.get("first_bn", True) else "")
        return f"{first}, pool, conv64 5×5+BN, pool, dense 84+BN, dropout {h.get('dropout', 0.3):g}"
    if arch == "vgg_bn":
        blocks = h.get("blocks", ((32, 32), (64, 64), (128,)))
        dense = h.get("dense_units", 256)
        head = [f"dense {dense}+BN"] if dense else []
        return ", ".join([_conv_blocks(blocks, h.get("first_bn", True)), *head, f"dropout {h.get('dropout', 0.3):g}"])
    if arch == "residual_bn":
        w = h.get("widths", (32, 64, 128))
        stages = ", ".join(f"pool, conv{f}+BN, residual block {f}" for f in w[1:])
        return f"conv{w[0]}, conv{w[0]}+BN, {stages}, global average pool, dropout {h.get('dropout', 0.3):g}"
    if arch == "design_mlp":
        return "dense 256"
    if arch == "design_cnn":
        pool = "avg pool" if h.get("pooling") == "average" else "pool"
        if h.get("regularizer") == "batchnorm":
            return f"conv32+BN, {pool}, conv64+BN, {pool}, dense 128+BN"
        return f"conv32, {pool}, dropout 0.25, conv64, {pool}, dropout 0.25, dense 128, dropout 0.5"
    if arch == "efficientnet_lite0":
        return (f"ImageNet EfficientNet-Lite0 at {h['input_size']}×{h['input_size']} px (16 inverted-residual "
                "blocks, ReLU6), pooled 1,280 features, dropout 0.2")
    raise KeyError(f"No description of architecture {arch!r}: add it to fmnist_utils.present.names.layers")


def network(spec: dict) -> str:
    """The name of a model's network, whatever its training: 'MLP 256-128', 'CNN-5', 'LeNet-BN'."""
    arch, h = spec["arch"], spec.get("hparams", {})
    if arch == "mlp":
        return f"MLP {_units(h.get('hidden_units', (256,)))}" + ("-BN" if h.get("batch_norm") else "")
    if arch == "vgg_bn":  # CNN-k starts at 32 filters; a searched width is named
        widths = [w for block in h.get("blocks", ((32, 32), (64, 64), (128,))) for w in block]
        return f"CNN-{len(widths)}" + (f", {widths[0]}–{max(widths)} filters" if widths[0] != 32 else "")
    return {"linear": "Linear softmax", "cnn_1conv_mlp": "1-conv CNN", "cnn_2conv": "2-conv CNN",
            "lenet_bn": "LeNet-BN", "residual_bn": "ResNet-BN", "efficientnet_lite0": "EfficientNet-Lite0",
            "design_mlp": "MLP 256", "design_cnn": "Small CNN"}[arch]


def description(spec: dict) -> str:
    """A CNN in a few words for the abstract: 'five convolutions with batch normalisation'."""
    h = spec.get("hparams", {})
    if spec["arch"] == "vgg_bn":
        convs = sum(len(block) for block in h.get("blocks", ((32, 32), (64, 64), (128,))))
        return f"{in_words(convs)} convolutions with batch normalisation"
    if spec["arch"] == "residual_bn":
        convs = 2 + 3 * (len(h.get("widths", (32, 64, 128))) - 1)
        return f"a residual network of {in_words(convs)} convolutions with batch normalisation"
    return network(spec)


def recipe_name(spec: dict) -> str:
    """Which of the report's training recipes trained a model: the source reports' (constant learning rate
    halved on plateaus, early stopping) or ours (warm-up and cosine decay over a fixed schedule)."""
    if spec["arch"] == "efficientnet_lite0":
        return "Transfer from ImageNet"
    if spec["arch"].startswith("design_"):
        return "Design studies"
    if spec["train"]["schedule"] != "cosine":
        return "Source reports' recipe"
    return "Our CNN recipe" if spec["arch"] != "mlp" else "Our MLP recipe"
