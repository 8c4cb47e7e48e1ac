import pytest

from vaelib.notebook import injected_names, read_parameters
from vaelib.params import PARAMETER_NAMES, CourseParameters, ParameterError, check_classes, parse_classes


@pytest.mark.parametrize("value", ["[0,2,6]", "[0, 2, 6]", "0,2,6", " (6, 0, 2) ", [0, 2, 6], (2, 6, 0)])
def test_classes_parse_from_strings_and_lists(value):
    assert parse_classes(value, "normal_classes") == (0, 2, 6)


def test_single_int_is_one_class():
    assert parse_classes(7) == (7,) and parse_classes("7") == (7,)


@pytest.mark.parametrize("value, fragment", [
    ([], "empty"), ("[]", "empty"), ([10], "outside 0-9"), ([-1], "outside 0-9"), ("abc", "not a list"),
    ([1.5], "not an integer"), ([True], "not an integer"), ([1, 1], "repeats"), (None, "not a list"),
])
def test_bad_classes_are_named(value, fragment):
    with pytest.raises(ParameterError, match=fragment) as info:
        parse_classes(value, "normal_classes")
    assert "normal_classes" in str(info.value)


def test_overlapping_classes_are_rejected():
    with pytest.raises(ParameterError, match=r"Classes \[2\] are in both"):
        check_classes([0, 2, 6], [2, 7])


@pytest.mark.parametrize("name", ["epochs", "batch_size", "codings_size"])
@pytest.mark.parametrize("value", [0, -3, "0", 2.5, "ten"])
def test_non_positive_or_non_integer_sizes_fail(name, value):
    with pytest.raises(ParameterError, match=name):
        CourseParameters(**{name: value})


def test_strings_from_papermill_p_are_converted():
    params = CourseParameters(normal_classes="[0,2,6]", anomaly_classes="7", epochs="5", seed="1", data_dir="None")
    assert params.normal_classes == (0, 2, 6) and params.anomaly_classes == (7,)
    assert params.epochs == 5 and params.seed == 1 and params.data_dir is None


def test_unknown_names_fail_with_the_list_of_parameters():
    with pytest.raises(ParameterError, match="Unknown parameter.*epoch\\b.*The parameters are: normal_classes"):
        CourseParameters.from_mapping({"epoch": 3})


def test_injected_names_are_read_from_the_latest_papermill_cell():
    history = ["import x", "# Parameters\nepochs = 3\nnormal_clases = [1]\n", "# Parameters\nseed = 1\n"]
    assert injected_names(history) == ["seed"]
    assert injected_names(["x = 1"]) == []


def namespace(**overrides):
    ns = CourseParameters().to_dict()
    ns.update(overrides)
    return ns


def test_read_parameters_rejects_an_injected_typo():
    ns = namespace(In=["", "# Parameters\nepoch = 3\n"], epoch=3)
    with pytest.raises(ParameterError, match="Unknown parameter\\(s\\) epoch\\."):
        read_parameters(ns)


def test_read_parameters_returns_checked_values():
    ns = namespace(In=["", "# Parameters\nnormal_classes = \"[1, 3]\"\n"], normal_classes="[1, 3]")
    params = read_parameters(ns)
    assert params.normal_classes == (1, 3)
    assert set(params.to_dict()) == set(PARAMETER_NAMES)
    assert "| `normal_classes` | `[1, 3]` |" in params._repr_markdown_()


def test_read_parameters_names_a_missing_parameter():
    ns = namespace()
    del ns["seed"]
    with pytest.raises(ParameterError, match="does not set seed"):
        read_parameters(ns)
