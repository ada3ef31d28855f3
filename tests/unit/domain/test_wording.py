from desktop.domain.wording import counted


def test_counted_agrees_with_its_noun() -> None:
    assert counted(1, "case") == "1 case"
    assert counted(0, "case") == "0 cases"
    assert counted(1_000, "penalty", "penalties") == "1,000 penalties"
    assert counted(1, "penalty", "penalties") == "1 penalty"
