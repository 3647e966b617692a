"""Numbers from requests: bounded to what a database integer holds, NaN refused."""
from __future__ import annotations

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from heating.core.numbers import DB_INT_MAX, FiniteDecimalField, id_choice, whole_number
from tests.conftest import make_app


@pytest.mark.parametrize("value,expected", [
    ("12", 12), (" 7 ", 7), ("０１２", 12), (0, 0), (str(DB_INT_MAX), DB_INT_MAX), ("+3", 3)])
def test_whole_numbers(value, expected):
    assert whole_number(value) == expected


@pytest.mark.parametrize("value", [
    "", " ", "abc", "1.5", "1e3", "1e309", "NaN", "0x10", "1_000", None, True, "-1", -1,
    str(DB_INT_MAX + 1), "99999999999999999999", "9" * 5000])
def test_not_whole_numbers_or_out_of_range(value):
    with pytest.raises(ValueError):
        whole_number(value)


def test_bounds():
    assert whole_number("2026", 2016, 2100) == 2026
    with pytest.raises(ValueError):
        whole_number("1999", 2016, 2100)
    assert whole_number("-5", low=-10) == -5


class _Form(Form):
    area = FiniteDecimalField(places=2, validators=[
        InputRequired(), NumberRange(Decimal("5"), Decimal("1000"))])
    village = SelectField(coerce=id_choice, validate_choice=False, default=0)
    n = IntegerField(validators=[InputRequired(), NumberRange(1, 30)])


@pytest.mark.parametrize("bad", ["sNaN", "NaN", "Infinity", "-Infinity", "1e309",
                                 "99999999999999999999"])
def test_decimal_field_refuses_nan_and_infinity_as_a_field_error(bad):
    # a plain DecimalField reads 'sNaN' and its NumberRange then raises: a 500 on POST
    form = _Form(MultiDict({"area": bad, "village": "1", "n": "3"}))
    assert not form.validate()
    assert list(form.errors) == ["area"]


@pytest.mark.parametrize("bad", ["99999999999999999999", "abc", "-1", "1e3"])
def test_id_select_refuses_what_no_id_can_be(bad):
    form = _Form(MultiDict({"area": "95.5", "village": bad, "n": "3"}))
    assert not form.validate()
    assert form.village.data == 0 and list(form.errors) == ["village"]


def test_int_routes_stop_at_64_bits():
    adapter = make_app("sqlite://").url_map.bind("localhost")
    assert adapter.match(f"/households/{DB_INT_MAX}")[1] == {"case_id": DB_INT_MAX}
    for too_big in (DB_INT_MAX + 1, 10 ** 20):
        with pytest.raises(Exception) as caught:
            adapter.match(f"/households/{too_big}")
        assert getattr(caught.value, "code", None) == 404


def test_ids_beyond_the_integer_columns_are_404_not_500(client, world):
    """Ids are INTEGER on PostgreSQL: 2**31 in a route or an ``after`` used to be a 500 there
    ("integer out of range"), though SQLite holds it."""
    from tests.fixtures import log_in, make_user
    log_in(client, make_user("county", world.county))
    for url in ("/households/2147483648", "/households/4294967296",
                "/payouts/batches/4294967296", "/subsidies/policies/3000000000"):
        assert client.get(url).status_code == 404, url
    assert client.get("/households/2147483647").status_code == 404  # the largest id: no case
    assert client.get("/audit/?after=4294967296").status_code == 200
