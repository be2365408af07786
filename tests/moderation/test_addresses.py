"""The address key behind every hash: one IPv4 address, or one IPv6 /64, however it is written."""

from moderation.addresses import address_hash, address_key, client_ip


def test_ipv6_privacy_addresses_of_one_household_share_a_hash():
    rotated = ["2001:db8:1:2:a1b2:c3d4:e5f6:1", "2001:db8:1:2::77", "2001:DB8:1:2:ffff:ffff:ffff:ffff"]
    assert {address_hash(ip) for ip in rotated} == {address_hash(rotated[0])}
    assert address_key(rotated[0]) == "2001:db8:1:2::/64"
    # The neighbouring /64 is another household.
    assert address_hash("2001:db8:1:3::1") != address_hash(rotated[0])


def test_ipv4_mapped_addresses_count_as_the_ipv4_address():
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert address_hash("::ffff:198.51.100.7") == address_hash("198.51.100.7")
    assert address_hash("::ffff:c633:6407") == address_hash("198.51.100.7")
    # Two IPv4 visitors never share a hash through the mapped /64 they would otherwise fall in.
    assert address_hash("::ffff:198.51.100.8") != address_hash("198.51.100.7")


def test_ipv4_addresses_stay_whole():
    assert address_key("198.51.100.7") == "198.51.100.7"
    assert address_hash("198.51.100.7") != address_hash("198.51.100.8")


def test_unknown_and_unparsable_addresses():
    assert address_hash(None) == "" and address_hash("") == ""
    assert address_key("not-an-address") == "not-an-address"
    assert len(address_hash("not-an-address")) == 64


def test_a_trusted_ipv4_proxy_seen_through_a_dual_stack_socket(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    headers = [(b"x-forwarded-for", b"2001:db8:1:2::9")]
    assert client_ip({"client": ("::ffff:127.0.0.1", 1), "headers": headers}) == "2001:db8:1:2::9"
