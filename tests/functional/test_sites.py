"""Sites of a national service: referral to a site, resources resolved by ownership, courier
legs with dispatch days and cut-off times (exact times in the event log), per-site KPIs."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from builders import make_scenario, scenario_dict, sites_dict

from cartsim.engine.cohort import make_cohort
from cartsim.engine.streams import Streams
from cartsim.engine.transport import Dispatch
from cartsim.evaluate.kpis import SERVICE_SITE, site_metrics
from cartsim.inputs.errors import ScenarioError
from cartsim.inputs.stages import Transport
from cartsim.runs.experiment import run_replications, simulate
from cartsim.runs.studies import run_tables

START = dt.date(2026, 1, 5)  # day 0: a Monday


def leg(**changes: object) -> Transport:
    days = ["mon", "tue", "wed", "thu"]
    spec = {"name": "ship", "kind": "transport", "from": "a", "to": "b", "duration": 1,
            "dispatch_days": days, "cut_off_hour": 12, **changes}  # fmt: skip
    return Transport.model_validate(spec)


@pytest.mark.parametrize(
    ("ready", "collected"),
    [
        (0.0, 0.5),  # Monday 00:00: collected at Monday's 12:00 cut-off
        (0.5, 0.5),  # ready exactly at the cut-off: still today
        (0.5 + 1e-9, 1.5),  # just after: Tuesday's cut-off
        (3 + 13 / 24, 7.5),  # Thursday 13:00: no collection Friday to Sunday, so Monday
        (4.375, 7.5),  # Friday 09:00: not a dispatch day
        (6.99, 7.5),  # Sunday night
        (9.25, 9.5),  # Wednesday of the second week, 06:00
    ],
)
def test_a_shipment_is_collected_at_the_next_cut_off_of_a_dispatch_day(
    ready: float, collected: float
) -> None:
    assert Dispatch.of(leg(), START).collection(ready) == collected


def test_the_dispatch_calendar_follows_the_start_date_weekday() -> None:
    wednesday = dt.date(2026, 1, 7)
    only_fridays = Dispatch.of(leg(dispatch_days=["fri"], cut_off_hour=18), wednesday)
    assert only_fridays.collection(0.1) == 2 + 0.75  # Friday is day 2
    assert only_fridays.collection(2.8) == 9 + 0.75  # after Friday's cut-off: a week later


def independent_collection(ready: float) -> float:
    """Next Monday-Thursday 12:00 at or after ``ready``, by calendar dates."""
    day = math.floor(ready)
    while True:
        date = START + dt.timedelta(days=day)
        if date.weekday() <= 3 and ready <= day + 0.5:
            return day + 0.5
        day += 1


def events_of(point_of_care: bool = False, **changes: object) -> pd.DataFrame:
    return simulate(make_scenario(sites_dict(point_of_care, **changes)), 0).events


def test_courier_legs_in_the_event_log_leave_at_the_cut_off_and_take_their_duration() -> None:
    tables = simulate(make_scenario(sites_dict()), 0)
    events = tables.events
    ends = events[(events["stage"] == "apheresis") & (events["event"] == "end")]
    out = events[(events["stage"] == "ship_out") & (events["event"] == "start")]
    arrived = events[(events["stage"] == "ship_out") & (events["event"] == "end")]
    ready = ends.set_index("patient_id")["time"]
    left = out.set_index("patient_id")["time"]
    assert len(left) > 20
    expected = ready.loc[left.index].map(independent_collection)
    np.testing.assert_allclose(left.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)
    assert (left.to_numpy() - ready.loc[left.index].to_numpy() > 1.0).any()  # some wait days
    np.testing.assert_allclose(
        arrived.set_index("patient_id")["time"].loc[left.index].to_numpy(), left + 1.0, atol=1e-9
    )
    waited = tables.patients.set_index("patient_id")["wait_ship_out_days"].loc[left.index]
    np.testing.assert_allclose(waited, left - ready.loc[left.index], atol=1e-9)
    manufacturing = events[(events["stage"] == "manufacturing") & (events["event"] == "queue")]
    queued = manufacturing.set_index("patient_id")["time"].loc[left.index]
    np.testing.assert_allclose(queued.to_numpy(), left.to_numpy() + 1.0, atol=1e-9)


def test_each_patient_uses_the_resources_of_their_site_or_the_national_ones() -> None:
    tables = simulate(make_scenario(sites_dict()), 0)
    site = tables.patients.set_index("patient_id")["site"].astype(str)
    used = tables.events.dropna(subset=["resource"])
    owner = used["patient_id"].map(site)
    resource = used["resource"].astype(str)
    local = used["stage"].isin(["apheresis", "monitoring"])
    assert set(owner) == {"north", "south"}
    assert (resource[local] == owner[local] + "." + used.loc[local, "stage"].map(
        {"apheresis": "apheresis", "monitoring": "ward_bed"})).all()  # fmt: skip
    assert (resource[used["stage"] == "manufacturing"] == "manufacturing").all()


def test_point_of_care_takes_no_courier_leg_and_uses_the_site_device() -> None:
    events = events_of(point_of_care=True)
    assert not events["stage"].isin(["ship_out", "ship_back"]).any()
    made = events[(events["stage"] == "manufacturing") & (events["event"] == "start")]
    assert set(made["resource"].astype(str)) == {"north.manufacturing", "south.manufacturing"}
    central = events_of()
    treated = central[central["event"] == "treatment"]["patient_id"]
    for name in ("ship_out", "ship_back"):
        starts = central[(central["stage"] == name) & (central["event"] == "start")]
        assert set(treated) <= set(starts["patient_id"])  # every treated patient was shipped


def test_a_leg_between_a_site_and_a_national_resource_only_applies_where_the_site_lacks_one():
    data = sites_dict(point_of_care=True)
    del data["sites"]["south"]["resources"]["manufacturing"]
    data["resources"] = {"manufacturing": {"capacity": 1}}
    tables = simulate(make_scenario(data), 0)
    site = tables.patients.set_index("patient_id")["site"].astype(str)
    shipped = tables.events[(tables.events["stage"] == "ship_out")]["patient_id"].map(site)
    assert set(shipped) == {"south"}


@pytest.mark.statistical
def test_catchment_shares_split_each_diseases_referrals(seed: int) -> None:
    data = sites_dict(
        demand={
            "SLE": {"rate_per_year": 3000, "age": 40},
            "SSc": {"rate_per_year": 2000, "age": 50},
        },
    )
    data["sites"]["north"]["catchment"] = {"SLE": 0.7, "SSc": 0.25}
    data["sites"]["south"]["catchment"] = {"SLE": 0.3, "SSc": 0.75}
    scenario = make_scenario(data)
    cohort = make_cohort(scenario, Streams(seed, replication=0))
    for code, (disease, share) in enumerate([("SLE", 0.7), ("SSc", 0.25)]):
        mine = cohort.site[cohort.disease == code]
        n = mine.size
        observed = float((mine == 0).mean())
        # 4.5 binomial standard errors: fails for about 1 seed in 150,000
        assert abs(observed - share) < 4.5 * math.sqrt(share * (1 - share) / n), (disease, n)


def test_the_site_draw_moves_no_other_draw(seed: int) -> None:
    plain = make_cohort(make_scenario(scenario_dict()), Streams(seed, replication=1))
    sited = make_cohort(make_scenario(sites_dict()), Streams(seed, replication=1))
    np.testing.assert_array_equal(plain.arrival_day, sited.arrival_day)
    np.testing.assert_array_equal(plain.age, sited.age)
    np.testing.assert_array_equal(plain.draw("cart.manufacturing.duration.0"),
                                  sited.draw("cart.manufacturing.duration.0"))  # fmt: skip
    assert plain.site is None and sited.site is not None


def test_per_site_counts_sum_to_the_service_totals() -> None:
    scenario = make_scenario(sites_dict())
    tables = run_replications(scenario, 2, events=False)
    rows = site_metrics(tables.patients, 0.0, START)
    counts = rows[rows["metric"].isin(["referred", "treated", "died_waiting", "dropped_out"])]
    keys = ["replication", "arm", "period_kind", "period", "metric"]
    service = counts[counts["site"] == SERVICE_SITE].set_index(keys)["value"]
    sites = counts[counts["site"] != SERVICE_SITE].groupby(keys)["value"].sum()
    pd.testing.assert_series_equal(sites.sort_index(), service.sort_index(), check_names=False)
    referred = service.xs(("all", 0, "referred"), level=["period_kind", "period", "metric"])
    assert (referred.to_numpy() == tables.patients.groupby("replication").size().to_numpy()).all()
    north = rows[(rows["site"] == "north") & (rows["metric"] == "p90_vein_to_vein_days")]
    patients = tables.patients[tables.patients["site"] == "north"]
    first = patients[patients["replication"] == 0]["vein_to_vein_days"].dropna()
    mine = north[(north["replication"] == 0) & (north["period_kind"] == "all")]["value"]
    assert mine.item() == pytest.approx(np.quantile(first, 0.9))


def test_a_run_writes_kpis_per_site_and_for_the_service() -> None:
    scenario = make_scenario(sites_dict())
    frames = run_tables(scenario, run_replications(scenario, 2, events=False))
    table = frames["kpis_by_site"]
    assert set(table["site"]) == {"north", "south", SERVICE_SITE}
    assert set(table["period_kind"]) == {"all", "referral_year", "calendar_year"}
    assert "utilisation_north.apheresis" in set(frames["kpis"]["metric"])


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d["sites"]["north"].update(catchment=0.5), "sites",
         "catchment shares of SLE sum to 0.9"),
        (lambda d: d["sites"]["north"].update(catchment={"XYZ": 1}), "sites.north.catchment.XYZ",
         "unknown disease"),
        (lambda d: d["sites"]["south"]["resources"].pop("ward_bed"),
         "arms.cart.stages.ship_back.to", "resolves to nothing for site 'south'"),
        (lambda d: d["arms"]["cart"]["stages"][1].update({"to": "lab"}),
         "arms.cart.stages.ship_out.to", "unknown resource 'lab'"),
        (lambda d: d["sites"].update(service={"catchment": 0}), "sites.service", "reserved"),
        (lambda d: d["sites"]["north"]["resources"]["apheresis"].update(calendar="weekdays"),
         "sites.north.resources.apheresis.calendar", "unknown calendar"),
    ],
)  # fmt: skip
def test_check_names_the_field_of_a_site_mistake(change, field: str, message: str) -> None:
    data = sites_dict()
    change(data)
    with pytest.raises(ScenarioError) as caught:
        make_scenario(data)
    assert caught.value.field == field
    assert message in caught.value.message


def rates_dict(north: float, south: float, national: float) -> dict:
    data = sites_dict(demand={"SLE": {"rate_per_year": national}})
    for name, rate in (("north", north), ("south", south)):
        data["sites"][name].pop("catchment")
        data["sites"][name]["referrals_per_year"] = {"SLE": rate}
    return data


@pytest.mark.statistical
def test_referrals_per_year_of_each_site_give_it_a_poisson_stream_of_its_rate(seed: int) -> None:
    scenario = make_scenario(rates_dict(north=300, south=100, national=400))
    years = scenario.run.arrival_window_days / 365.25
    counts = np.array([
        np.bincount(make_cohort(scenario, Streams(seed, replication=r)).site, minlength=2)
        for r in range(5)
    ])  # fmt: skip
    for k, rate in enumerate((300, 100)):
        expected = 5 * rate * years  # five replications
        # 4.5 Poisson standard deviations: fails for about 1 seed in 150,000
        assert abs(counts[:, k].sum() - expected) < 4.5 * math.sqrt(expected), (k, counts)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (rates_dict(north=300, south=100, national=350), "demand.SLE.rate_per_year",
         "sum to 400"),
        (sites_dict(sites={"north": {"referrals_per_year": {"SLE": 5}}}), "sites.north",
         "not both"),
        (rates_dict(north=300, south=100, national=[400]), "demand.SLE.rate_per_year",
         "catchment shares instead"),
    ],
)  # fmt: skip
def test_referral_rates_of_the_sites_must_add_up(data: dict, field: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        make_scenario(data)
    assert caught.value.field == field and message in caught.value.message


def test_a_transport_stage_is_dumped_as_written_and_reads_back() -> None:
    from cartsim.inputs.scenario import Scenario

    scenario = make_scenario(sites_dict())
    dumped = scenario.model_dump(mode="json")
    leg = dumped["arms"]["cart"]["stages"][1]
    assert (leg["from"], leg["to"]) == ("apheresis", "manufacturing") and "origin" not in leg
    assert Scenario.model_validate(dumped) == scenario
