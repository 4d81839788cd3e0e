"""One definition of production, for environments, labels and cluster names."""

from __future__ import annotations

import pytest

from devops.domain.environments import is_production, is_production_name


@pytest.mark.parametrize("name", ["prod", "PROD", "shop-prod", "techitfactory-production-eks", "prd_eu", "eu/prod"])
def test_a_production_word_makes_a_name_production(name: str) -> None:
    assert is_production_name(name)


@pytest.mark.parametrize("name", ["dev", "product", "preprod", "reproduce", "prods", ""])
def test_other_names_are_not_production(name: str) -> None:
    assert not is_production_name(name)


def test_an_environment_is_production_by_declaration_first_then_by_its_names() -> None:
    assert is_production("live", cluster="shop-prd")
    assert is_production("live", label="production")
    assert not is_production("live", cluster="shop-live")
    assert not is_production("prod", declared=False)
    assert is_production("staging", declared=True)
