"""Matching jobs to runners and the action digest: the parts that make a seed replay."""

import random

from kilat.simulate import Simulation, SimulationConfig, Target
from kilat.simulate.agents import Job, JobStatus
from kilat.simulate.city import random_place
from kilat.simulate.stats import Stats, percentile


def city(runners: int = 3) -> Simulation:
    return Simulation(SimulationConfig(owners=1, runners=runners, seed=1), Target("http://127.0.0.1:9"))


def job(index: int, place, status=JobStatus.REQUESTED) -> Job:
    return Job(index, 0, f"b{index}", place, place, None, False, 5, 0, status)


def place_runner(simulation: Simulation, index: int, latitude: float, longitude: float, seen):
    runner = simulation.runners[index]
    runner.vehicle.latitude, runner.vehicle.longitude = latitude, longitude
    runner.seen = list(seen)
    return runner


def test_each_open_job_goes_to_the_nearest_free_runner_who_saw_it_oldest_job_first():
    simulation = city()
    pickup = random_place(random.Random(1))
    simulation.jobs = [job(0, pickup), job(1, pickup)]
    place_runner(simulation, 0, pickup.latitude + 0.05, pickup.longitude, ["b0", "b1"])
    place_runner(simulation, 1, pickup.latitude + 0.01, pickup.longitude, ["b0", "b1"])
    place_runner(simulation, 2, pickup.latitude, pickup.longitude, [])

    matches = [(runner.index, j.index) for runner, j in simulation._match()]

    assert matches == [(1, 0), (0, 1)]


def test_a_runner_who_declined_a_job_or_is_busy_is_not_offered_it_again():
    simulation = city(2)
    pickup = random_place(random.Random(2))
    declined = job(0, pickup)
    declined.declined_by.add(0)
    simulation.jobs = [declined, job(1, pickup, JobStatus.ACCEPTED)]
    place_runner(simulation, 0, pickup.latitude, pickup.longitude, ["b0", "b1"])
    busy = place_runner(simulation, 1, pickup.latitude, pickup.longitude, ["b0"])
    busy.job = simulation.jobs[1]

    assert simulation._match() == []


def test_the_action_digest_depends_on_the_actions_and_their_order_only():
    first, same, other = Stats(), Stats(), Stats()
    for stats in (first, same):
        stats.action(1, "owner-0", "book", "dog")
        stats.action(2, "runner-0", "accept", 0)
    other.action(2, "runner-0", "accept", 0)
    other.action(1, "owner-0", "book", "dog")
    assert first.digest == same.digest != other.digest


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99
    assert percentile([], 99) == 0.0


def test_agents_of_the_same_seed_make_the_same_choices():
    one, two = city(), city()
    assert [r.position for r in one.runners] == [r.position for r in two.runners]
    assert one.owners[0].home == two.owners[0].home
    assert city().runners[0].position == one.runners[0].position
    other = Simulation(SimulationConfig(owners=1, runners=3, seed=2), Target("http://127.0.0.1:9"))
    assert [r.position for r in other.runners] != [r.position for r in one.runners]
