"""FashionMNIST from IDX files (generated here in the real format), and the errors when it is missing."""
import numpy as np
import pytest
import torch

from fl.core.errors import UserError
from fl.ml.data import fashionmnist, load
from fl.ml.data.idx import read_idx, write_idx


@pytest.fixture
def no_system_data(monkeypatch, tmp_path):
    """Pretend neither Debian's package nor data/ holds FashionMNIST."""
    monkeypatch.setattr(fashionmnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fashionmnist, "PROJECT_DATA_DIR", tmp_path / "no-data")


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    assert np.array_equal(read_idx(path), array)


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken-idx3-ubyte"
    write_idx(path, np.zeros((4, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UserError, match="not a valid IDX file"):
        read_idx(path)


def test_loads_the_configured_folder_first_and_normalizes(tmp_path, no_system_data, idx_files):
    arrays = idx_files(tmp_path / "fm", fashionmnist.FILES)
    data = load("fashionmnist", root=str(tmp_path / "fm"))
    assert data.train_x.shape == (30, 1, 28, 28) and data.test_x.shape == (12, 1, 28, 28)
    assert torch.equal(data.train_y, torch.from_numpy(arrays["train_y"]).long())
    expected = (arrays["test_x"][3, 5, 7] / 255.0 - fashionmnist.MEAN) / fashionmnist.STD
    assert data.test_x[3, 0, 5, 7].item() == pytest.approx(expected, rel=1e-6)


def test_torchvision_layout_is_found(tmp_path, no_system_data, idx_files):
    idx_files(tmp_path / "root" / "FashionMNIST" / "raw", fashionmnist.FILES, gz=False)
    assert len(load("fashionmnist", root=str(tmp_path / "root")).train_y) == 30


def test_download_path_uses_torchvision_files_already_present(tmp_path, no_system_data, idx_files):
    # torchvision's downloader skips the network when the raw files are in place
    idx_files(tmp_path / "dl" / "FashionMNIST" / "raw", fashionmnist.FILES, gz=False)
    data = load("fashionmnist", root=str(tmp_path / "dl"), allow_download=True)
    assert len(data.test_y) == 12


def test_missing_data_offline_says_how_to_get_it(tmp_path, no_system_data):
    with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist"):
        load("fashionmnist", root=str(tmp_path / "empty"), allow_download=False)


def test_failed_download_says_how_to_get_it(tmp_path, no_system_data, monkeypatch):
    import torchvision.datasets

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", refuse)
    with pytest.raises(UserError, match="download failed .network is unreachable.; install it with"):
        load("fashionmnist", root=str(tmp_path / "empty"))


def test_unknown_data_set_lists_the_choices():
    with pytest.raises(UserError, match="unknown data set 'mnist2'; choose one of: cifar10, cifar100, emnist, fashionmnist, mnist, synthetic, "):
        load("mnist2")
