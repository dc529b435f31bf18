"""MNIST, EMNIST, CIFAR-10/100 read from files generated here in their real formats; FedProx's
Synthetic(α, β); batch augmentation. Nothing is downloaded."""
import pickle

import numpy as np
import pytest
import torch

from fl.core.errors import UserError
from fl.ml.data import augment, cifar10, cifar100, emnist, load, mnist, source
from fl.ml.data.synthetic import generate


@pytest.fixture
def no_project_data(monkeypatch, tmp_path):
    """Pretend the project's data/ folder is empty, whatever this machine holds."""
    monkeypatch.setattr(source, "PROJECT_DATA_DIR", tmp_path / "no-data")


def test_mnist_reads_idx_files_and_normalizes(tmp_path, no_project_data, idx_files):
    arrays = idx_files(tmp_path / "MNIST" / "raw", mnist.SET.files)
    data = load("mnist", root=str(tmp_path), allow_download=False)
    assert (data.train_x.shape, data.test_x.shape, data.num_classes) == ((30, 1, 28, 28), (12, 1, 28, 28), 10)
    assert data.test_x[2, 0, 3, 9].item() == pytest.approx((arrays["test_x"][2, 3, 9] / 255 - 0.1307) / 0.3081, rel=1e-6)
    assert data.train_y.tolist() == arrays["train_y"].tolist()


def test_emnist_balanced_images_are_read_upright(tmp_path, no_project_data, idx_files):
    arrays = idx_files(tmp_path, emnist.SET.files, classes=47, gz=False)
    data = load("emnist", root=str(tmp_path), allow_download=False)
    assert data.num_classes == 47
    raw = arrays["train_x"][5]
    assert data.train_x[5, 0, 3, 9].item() == pytest.approx((raw[9, 3] / 255 - 0.1751) / 0.3332, rel=1e-6)


@pytest.mark.parametrize("module", [cifar10, cifar100], ids=["cifar10", "cifar100"])
def test_cifar_reads_the_python_batches(module, tmp_path, no_project_data, cifar_files):
    written = cifar_files(tmp_path / module.SET.folder, module.SET)
    data = load(module.SET.name, root=str(tmp_path), allow_download=False)
    train_files = module.SET.train_files
    assert data.train_x.shape == (8 * len(train_files), 3, 32, 32) and data.test_x.shape == (8, 3, 32, 32)
    assert data.num_classes == module.SET.num_classes
    images, labels = written[train_files[-1]]
    first = 8 * (len(train_files) - 1)
    assert data.train_y[first:].tolist() == labels
    # pixel (row 4, column 7) of the green plane of the last file's third image
    green = images[2].reshape(3, 32, 32)[1, 4, 7]
    mean, std = module.SET.mean[1], module.SET.std[1]
    assert data.train_x[first + 2, 1, 4, 7].item() == pytest.approx((green / 255 - mean) / std, rel=1e-6)


def test_cifar_missing_offline_says_what_to_do(tmp_path, no_project_data, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno 101] Network is unreachable>")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(UserError, match=r"CIFAR-10 is not on this machine and the download failed .*Network is "
                                        r"unreachable.*; run once with internet access .* or unpack cifar-10-python"):
        load("cifar10", root=str(tmp_path / "empty"))


def test_cifar_files_that_run_code_when_unpickled_are_refused(tmp_path, no_project_data, cifar_files):
    folder = tmp_path / cifar10.SET.folder
    cifar_files(folder, cifar10.SET)

    class Exploit:
        def __reduce__(self):
            return (print, ("this ran",))

    (folder / "test_batch").write_bytes(pickle.dumps({"data": Exploit(), "labels": []}, protocol=2))
    with pytest.raises(UserError, match="test_batch is not a valid CIFAR batch file: UnpicklingError: refusing to load __builtin__.print"):
        load("cifar10", root=str(tmp_path), allow_download=False)


# --- Synthetic(α, β) -------------------------------------------------------------------------
def test_synthetic_is_generated_per_user_with_its_own_model():
    data = generate(alpha=1.0, beta=1.0, users=10)
    assert data.train_x.shape[1] == 60 and data.num_classes == 10
    assert data.train_client.unique().tolist() == list(range(10))
    assert len(data.test_y) > 0
    sizes = torch.bincount(data.train_client)
    assert int(sizes.min()) >= 45  # at least 50 samples per user, 90% of them for training


def test_synthetic_is_the_same_for_the_same_seed():
    a, b, c = generate(seed=1, users=5), generate(seed=1, users=5), generate(seed=2, users=5)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.train_y, b.train_y)
    assert not torch.equal(a.train_y[:40], c.train_y[:40])


def test_synthetic_users_differ_more_as_alpha_and_beta_grow():
    def spread(alpha_beta):
        data = generate(alpha=alpha_beta, beta=alpha_beta, users=20, seed=3)
        means = torch.stack([data.train_x[data.train_client == u].mean(0) for u in range(20)])
        return float(means.std(0).mean())

    assert spread(0.0) < spread(1.0) < spread(3.0)


def test_synthetic_iid_gives_every_user_the_same_labelling_rule():
    data = generate(alpha=0.0, beta=0.0, users=4, iid=True, seed=0)
    weights = torch.linalg.lstsq(data.train_x, torch.nn.functional.one_hot(data.train_y, 10).float()).solution
    fitted = (data.train_x @ weights).argmax(1)
    assert (fitted == data.train_y).float().mean() > 0.8  # one linear rule explains all users


def test_data_set_parameters_are_checked():
    with pytest.raises(UserError, match="data set 'synthetic' has no parameter 'gamma'; its parameters: alpha, beta"):
        load("synthetic", params={"gamma": 1})
    with pytest.raises(UserError, match="data set 'mnist' has no parameter 'alpha'; its parameters: none"):
        load("mnist", params={"alpha": 1})
    with pytest.raises(UserError, match="data.params.users of 'synthetic' must be an integer >= 1, got 0"):
        load("synthetic", params={"users": 0})


# --- augmentation ----------------------------------------------------------------------------
IMAGES = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).reshape(2, 1, 5, 5) + 1


def test_random_crop_is_a_shifted_window_of_the_zero_padded_image():
    out = augment.random_crop(IMAGES, torch.Generator().manual_seed(0), padding=2)
    assert out.shape == IMAGES.shape
    padded = torch.nn.functional.pad(IMAGES, (2, 2, 2, 2))
    for i in range(2):
        windows = [padded[i, :, r:r + 5, c:c + 5] for r in range(5) for c in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)


def test_flip_mirrors_some_images_left_right():
    images = torch.randn(64, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    out = augment.horizontal_flip(images, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images)]
    kept = [torch.equal(o, i) for o, i in zip(out, images)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 16 < sum(flipped) < 48


def test_augmentation_is_reproducible_from_the_seed():
    transform = augment.build("crop+flip", (1, 5, 5))
    a = transform(IMAGES, torch.Generator().manual_seed(4))
    b = transform(IMAGES, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, IMAGES)


def test_augmentation_names_are_checked():
    assert augment.build("none", (1, 5, 5)) is None
    with pytest.raises(UserError, match="unknown augmentation 'rotate' in train.augment='crop\\+rotate'; use none"):
        augment.build("crop+rotate", (1, 5, 5))
    with pytest.raises(UserError, match="needs image data, but the inputs have shape \\(60,\\)"):
        augment.build("flip", (60,))
