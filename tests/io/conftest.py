import pytest

from io_models import make_data


@pytest.fixture
def data():
    return make_data()
