from django.urls import reverse


def test_counselor_starts_from_own_caseload_and_can_widen(
    client, counselor, other_counselor, make_patient, track
):
    mine = make_patient(first="Mina", track=track)
    theirs = make_patient(first="Theo", track=track, counselor_user=other_counselor)
    client.force_login(counselor)
    url = reverse("scheduling:compliance")
    default = [r.patient for r in client.get(url).context["rows"]]
    everyone = [r.patient for r in client.get(url, {"scope": "all"}).context["rows"]]
    assert default == [mine]
    assert set(everyone) == {mine, theirs}  # on the rosters of the counselor's group
