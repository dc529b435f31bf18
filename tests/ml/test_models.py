"""Every registered model builds for a data set's input shape and classes; the projection-head variants."""
import pytest
import torch
from torch import nn

from fl.core.errors import UserError
from fl.ml import models

IMAGE_SETS = [((1, 28, 28), 10), ((3, 32, 32), 100)]


@pytest.mark.parametrize("name", sorted(models.BASE_MODELS))
@pytest.mark.parametrize("shape,classes", IMAGE_SETS, ids=["fmnist", "cifar100"])
def test_model_gives_one_logit_per_class(name, shape, classes):
    model = models.build(name, shape, classes, seed=0)
    assert model(torch.randn(2, *shape)).shape == (2, classes)


@pytest.mark.parametrize("name", ["mlp", "logreg", "mlp-proj"])
def test_flat_input_models_take_feature_vectors(name):
    assert models.build(name, (60,), 10, seed=0)(torch.randn(5, 60)).shape == (5, 10)


def test_image_model_on_feature_vectors_is_a_clear_error():
    with pytest.raises(UserError, match=r"model 'resnet18' takes images, but the data set's inputs have shape \(60,\); "
                                        "use one of: logreg, mlp, mlp-proj"):
        models.build("resnet18", (60,), 10, seed=0)


def test_same_seed_same_initial_weights():
    a, b, c = (models.build("lenet5", (1, 28, 28), 10, seed=s) for s in (3, 3, 4))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.classifier[0].weight, c.classifier[0].weight)


def test_resnet18_uses_group_norm_so_its_state_is_parameters_only():
    model = models.build("resnet18", (3, 32, 32), 10, seed=0)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    assert set(model.state_dict()) == {name for name, _ in model.named_parameters()}
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(11.2e6, rel=0.01)


def test_lenet5_proj_is_moons_cifar10_network():
    model = models.build("lenet5-proj", (3, 32, 32), 10, seed=0)
    x = torch.randn(3, 3, 32, 32)
    assert model.encoder(x).shape == (3, 84)  # two convolutions, then the 120- and 84-unit layers
    assert [layer.out_features for layer in model.projection if isinstance(layer, nn.Linear)] == [84, 256]
    assert model.represent(x).shape == (3, 256)
    assert torch.equal(model(x), model.head(model.represent(x)))


def test_only_proj_models_have_a_projection_head():
    assert models.has_projection_head(models.build("cnn-proj", (1, 28, 28), 10, seed=0))
    assert not models.has_projection_head(models.build("cnn", (1, 28, 28), 10, seed=0))
    assert models.with_projection() == ["alexnet-proj", "cnn-proj", "lenet5-proj", "mlp-proj", "niid-cnn-bn-proj",
                                        "niid-cnn-proj", "resnet18-proj", "vgg11-proj"]


def test_niid_bench_cnn_has_the_papers_layers_and_44426_parameters():
    model = models.build("niid-cnn", (1, 28, 28), 10, seed=0)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {"features.0.weight": (6, 1, 5, 5), "features.0.bias": (6,),
                      "features.3.weight": (16, 6, 5, 5), "features.3.bias": (16,),
                      "classifier.0.weight": (120, 256), "classifier.0.bias": (120,),
                      "classifier.2.weight": (84, 120), "classifier.2.bias": (84,),
                      "classifier.4.weight": (10, 84), "classifier.4.bias": (10,)}
    assert sum(p.numel() for p in model.parameters()) == 44_426


def test_niid_bench_cnn_with_batch_norm_normalizes_after_each_hidden_layer():
    model = models.build("niid-cnn-bn", (1, 28, 28), 10, seed=0)
    norms = [type(m).__name__ for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms == ["BatchNorm2d", "BatchNorm2d", "BatchNorm1d", "BatchNorm1d"]
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
