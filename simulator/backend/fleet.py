"""The fake hypervisor fleet: the virtual machines a simulated world backs up.

A fleet must reach a million VMs, so it keeps no Python object per VM. Everything about
VM ``i`` that never changes (uuid, name, hypervisor, disks, guest-write phase) is derived
on demand from a keyed hash of ``i``; only what changes (deployed, powered on) lives in a
``bytearray``, and only VMs that were restored get an entry in a dict. A
:class:`~simulator.contract.VirtualMachineInfo` is built only when someone asks for one.

Disk *content* is modelled as an opaque token per (VM, disk) that guest writes advance
over simulated time. It is a pure function of time plus the restores applied so far, so
no SimPy process is needed: :meth:`Fleet.disk_content` computes it, and
:meth:`Fleet.restore_disk` records a restore. Guest writes are modelled to happen whatever
the power state, which is harmless: a restore is judged at the instant it finishes.
"""

from __future__ import annotations

import hashlib
import random
import re
from bisect import bisect_right
from dataclasses import dataclass

from simulator.contract import Disk, VirtualMachineInfo

__all__ = ["HYPERVISOR_TYPES", "MAX_DISKS_PER_VM", "Fleet", "Hypervisor"]

#: The hypervisor types a generated fleet draws from (Abiquo's names).
HYPERVISOR_TYPES: tuple[str, ...] = ("VMX_04", "KVM", "HYPERV_301", "XENSERVER")

#: How many disks one VM may have: its disk sizes come from one 64-byte digest.
MAX_DISKS_PER_VM = 13

_DEPLOYED = 1
_POWERED_ON = 2
_MASK61 = (1 << 61) - 1
_MASK62 = (1 << 62) - 1
_MASK64 = (1 << 64) - 1
_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FEISTEL_ROUNDS = 4
#: How many uuids the fleet remembers (both ways) before it starts afresh: a whole
#: datacenter of load-m (25,000 VMs), whose initial deploys all queue at t = 0 and ask
#: for each uuid again when they run (16,384 made that pattern miss every time); about
#: 12 MB when full.
_UUID_CACHE_SIZE = 65_536


@dataclass(frozen=True, slots=True)
class Hypervisor:
    """One hypervisor host of the fleet."""

    datacenter: int
    type: str
    hostname: str
    address: str


class Fleet:
    """A fleet of virtual machines, indexed ``0 .. size-1``.

    Build one with :meth:`generate`. VM ``i`` is described lazily: :meth:`uuid`,
    :meth:`info`, :meth:`disk_sizes` compute from a keyed hash, so a fleet costs two bits
    of state per VM plus the restore history of the VMs that were restored.
    """

    def __init__(
        self,
        *,
        seed: int,
        size: int,
        datacenters: tuple[str, ...],
        hypervisors: tuple[Hypervisor, ...],
        name_stems: tuple[str, ...],
        disks_per_vm: tuple[int, int],
        disk_size_bytes: tuple[int, int],
        guest_write_interval_s: float,
    ) -> None:
        if size < 0:
            raise ValueError(f"size must be at least 0, got {size}")
        if not hypervisors or not name_stems or not datacenters:
            raise ValueError("a fleet needs at least one datacenter, hypervisor and name stem")
        lo, hi = disks_per_vm
        if not 1 <= lo <= hi <= MAX_DISKS_PER_VM:
            raise ValueError(
                f"disks_per_vm must satisfy 1 <= min <= max <= {MAX_DISKS_PER_VM}, "
                f"got {disks_per_vm}"
            )
        if not 0 < disk_size_bytes[0] <= disk_size_bytes[1]:
            raise ValueError(f"disk_size_bytes must satisfy 0 < min <= max, got {disk_size_bytes}")
        if not guest_write_interval_s > 0:
            raise ValueError(
                f"guest_write_interval_s must be positive seconds, got {guest_write_interval_s}"
            )
        self._size = size
        self._key = hashlib.blake2b(seed.to_bytes(8, "big"), digest_size=32).digest()
        self._round_keys = tuple(
            int.from_bytes(self._key[8 * k : 8 * k + 8], "big") for k in range(_FEISTEL_ROUNDS)
        )
        self.datacenters = datacenters
        self.hypervisors = hypervisors
        self._stems = name_stems
        self._disks = disks_per_vm
        self._disk_size = disk_size_bytes
        self._write_interval = float(guest_write_interval_s)
        self._state = bytearray(size)
        self._deployed = 0
        # (vm, disk sequence) -> restores in time order: (at_s, generation, token)
        self._restores: dict[tuple[int, int], list[tuple[float, int, str]]] = {}
        self._generations = 0
        self._last: tuple[int, bytes] = (-1, b"")
        # Recently derived uuids, both ways: one task asks for its VM's uuid, the VM's info
        # and the index behind the uuid several times. Bounded, so memory does not grow
        # with the fleet.
        self._uuids: dict[int, str] = {}
        self._indexes: dict[str, int] = {}

    # ------------------------------------------------------------------ building

    @classmethod
    def generate(
        cls,
        rng: random.Random,
        *,
        vms: int,
        datacenters: int = 1,
        hypervisors_per_datacenter: int = 4,
        disks_per_vm: tuple[int, int] = (1, 3),
        disk_size_bytes: tuple[int, int] = (10 * 2**30, 200 * 2**30),
        guest_write_interval_s: float = 3600.0,
    ) -> Fleet:
        """A fleet of ``vms`` VMs over ``datacenters`` x ``hypervisors_per_datacenter`` hosts.

        Faker (seeded from ``rng``) names only the small pools: datacenters, hosts and VM
        name stems. Every VM starts undeployed and powered off.
        """
        if datacenters < 1 or hypervisors_per_datacenter < 1:
            raise ValueError(
                "datacenters and hypervisors_per_datacenter must be at least 1, got "
                f"{datacenters} and {hypervisors_per_datacenter}"
            )
        # Imported here, not at the top: a plugin's child process imports this module
        # (through the reference plugin) but never builds a fleet, and faker is slow to load.
        from faker import Faker

        faker = Faker()
        faker.seed_instance(rng.getrandbits(32))
        dc_names: list[str] = []
        while len(dc_names) < datacenters:
            name = f"{faker.city()} DC"
            if name in dc_names:
                name = f"{name} {len(dc_names) + 1}"
            dc_names.append(name)
        domain = faker.domain_name()
        hosts: list[Hypervisor] = []
        addresses: set[str] = set()
        for dc in range(datacenters):
            for _ in range(hypervisors_per_datacenter):
                hv_type = rng.choice(HYPERVISOR_TYPES)
                address = faker.ipv4_private()
                while address in addresses:
                    address = faker.ipv4_private()
                addresses.add(address)
                hostname = f"{hv_type.lower().replace('_', '')}-{len(hosts) + 1:03d}.{domain}"
                hosts.append(Hypervisor(dc, hv_type, hostname, address))
        stems: list[str] = []
        for _ in range(200):
            word = faker.word().lower()
            if word.isalpha() and word not in stems:
                stems.append(word)
            if len(stems) == 64:
                break
        return cls(
            seed=rng.getrandbits(64),
            size=vms,
            datacenters=tuple(dc_names),
            hypervisors=tuple(hosts),
            name_stems=tuple(stems) or ("vm",),
            disks_per_vm=disks_per_vm,
            disk_size_bytes=disk_size_bytes,
            guest_write_interval_s=guest_write_interval_s,
        )

    # ---------------------------------------------------------------- identities

    @property
    def size(self) -> int:
        """How many VMs the fleet has."""
        return self._size

    def _check(self, i: int) -> None:
        if not 0 <= i < self._size:
            raise IndexError(f"VM index {i} is outside the fleet (0 .. {self._size - 1})")

    def _digest(self, i: int) -> bytes:
        # One-entry cache: info() and the backup system ask several traits of one VM in a row.
        if self._last[0] != i:
            d = hashlib.blake2b(i.to_bytes(8, "big"), key=self._key, digest_size=64).digest()
            self._last = (i, d)
        return self._last[1]

    def _round(self, k: int, half: int) -> int:
        # splitmix64 of the half-block and a round key: cheap, and enough to look random.
        z = ((half ^ self._round_keys[k]) + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return (z ^ (z >> 31)) & _MASK61

    def uuid(self, i: int) -> str:
        """VM ``i``'s uuid: a uuid4-shaped string, unique in the fleet and stable per seed.

        It is a keyed 122-bit permutation (a Feistel network) of ``i``, so
        :meth:`index_of` inverts it in O(1) without a lookup table.
        """
        cached = self._uuids.get(i)
        if cached is not None:
            return cached
        self._check(i)
        left, right = i >> 61, i & _MASK61
        for key in self._round_keys:  # _round, inlined: every task asks for a uuid
            z = ((right ^ key) + 0x9E3779B97F4A7C15) & _MASK64
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
            left, right = right, left ^ ((z ^ (z >> 31)) & _MASK61)
        y = (left << 61) | right
        # Spread the 122 bits around the uuid4 version nibble and variant bits.
        n = (y >> 74) << 80 | 0x4 << 76 | ((y >> 62) & 0xFFF) << 64 | 0b10 << 62 | (y & _MASK62)
        h = f"{n:032x}"
        uuid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        self._remember(i, uuid)
        return uuid

    def _remember(self, i: int, uuid: str) -> None:
        if len(self._uuids) >= _UUID_CACHE_SIZE:  # start afresh: cheaper than an LRU
            self._uuids.clear()
            self._indexes.clear()
        self._uuids[i] = uuid
        self._indexes[uuid] = i

    def index_of(self, uuid: str) -> int:
        """The index of the VM whose uuid is ``uuid``; ``KeyError`` naming it otherwise.

        Only the canonical lower-case form that :meth:`uuid` returns is recognised.
        """
        cached = self._indexes.get(uuid) if isinstance(uuid, str) else None
        if cached is not None:
            return cached
        if not isinstance(uuid, str) or not _CANONICAL_UUID.match(uuid):
            raise KeyError(f"{uuid!r} is not a VM uuid of this fleet (not a canonical uuid)")
        n = int(uuid.replace("-", ""), 16)
        if (n >> 76) & 0xF != 0x4 or (n >> 62) & 0b11 != 0b10:
            raise KeyError(f"{uuid!r} is not a VM uuid of this fleet (not a uuid4)")
        y = (n >> 80) << 74 | ((n >> 64) & 0xFFF) << 62 | (n & _MASK62)
        left, right = y >> 61, y & _MASK61
        for k in reversed(range(_FEISTEL_ROUNDS)):
            left, right = right ^ self._round(k, left), left
        i = (left << 61) | right
        if i >= self._size:
            raise KeyError(f"{uuid!r} is not a VM uuid of this fleet")
        self._remember(i, uuid)
        return i

    # ------------------------------------------------------------------- traits

    def hypervisor_index(self, i: int) -> int:
        """Which of :attr:`hypervisors` runs VM ``i``."""
        self._check(i)
        return int.from_bytes(self._digest(i)[0:4], "big") % len(self.hypervisors)

    def datacenter_index(self, i: int) -> int:
        """Which of :attr:`datacenters` VM ``i`` lives in."""
        return self.hypervisors[self.hypervisor_index(i)].datacenter

    def name(self, i: int) -> str:
        """VM ``i``'s name, unique in the fleet."""
        self._check(i)
        stem = self._stems[int.from_bytes(self._digest(i)[4:6], "big") % len(self._stems)]
        return f"{stem}-{i:06d}"

    def disk_sizes(self, i: int) -> tuple[int, ...]:
        """The sizes in bytes of VM ``i``'s disks, by sequence number (0 is the boot disk)."""
        self._check(i)
        d = self._digest(i)
        lo, hi = self._disks
        count = lo + d[6] % (hi - lo + 1)
        smin, smax = self._disk_size
        span = smax - smin
        sizes = []
        for k in range(count):
            h = int.from_bytes(d[11 + 4 * k : 15 + 4 * k], "big")
            # Spread over the range in whole MiB steps, like a real disk size.
            sizes.append(min(smax, smin + (h * (span + 1) >> 32) // 2**20 * 2**20))
        return tuple(sizes)

    def disk_count(self, i: int) -> int:
        """How many disks VM ``i`` has."""
        self._check(i)
        lo, hi = self._disks
        return lo + self._digest(i)[6] % (hi - lo + 1)

    def info(self, i: int) -> VirtualMachineInfo:
        """VM ``i`` as the platform hands it to a plugin.

        Built without validation (every Virtual Factory task builds one): the values are
        the fleet's own, unique sequences and non-empty strings by construction, and a
        test checks that the result equals the validated model.
        """
        name = self.name(i)
        hv = self.hypervisors[self.hypervisor_index(i)]
        disks = tuple(
            Disk._trusted(
                {"sequence": seq, "size_bytes": size, "path": _disk_path(hv.type, name, seq)}
            )
            for seq, size in enumerate(self.disk_sizes(i))
        )
        return VirtualMachineInfo._trusted(
            {
                "uuid": self.uuid(i),
                "name": name,
                "datacenter": self.datacenters[hv.datacenter],
                "hypervisor_type": hv.type,
                "hypervisor_address": hv.address,
                "disks": disks,
            }
        )

    def info_by_uuid(self, uuid: str) -> VirtualMachineInfo:
        """The VM whose uuid is ``uuid`` (``KeyError`` if none)."""
        return self.info(self.index_of(uuid))

    # -------------------------------------------------------------------- state

    def is_deployed(self, i: int) -> bool:
        """Whether VM ``i`` is deployed on its hypervisor."""
        self._check(i)
        return bool(self._state[i] & _DEPLOYED)

    def set_deployed(self, i: int, deployed: bool) -> None:
        """Deploy (and power on) or undeploy (and power off) VM ``i``."""
        self._check(i)
        was = self._state[i] & _DEPLOYED
        self._state[i] = _DEPLOYED | _POWERED_ON if deployed else 0
        self._deployed += int(deployed) - (1 if was else 0)

    def is_powered_on(self, i: int) -> bool:
        """Whether VM ``i`` is powered on (only a deployed VM can be)."""
        self._check(i)
        return bool(self._state[i] & _POWERED_ON)

    def set_powered_on(self, i: int, powered_on: bool) -> None:
        """Power VM ``i`` on or off. Powering on an undeployed VM is a ``ValueError``."""
        self._check(i)
        if powered_on and not self._state[i] & _DEPLOYED:
            raise ValueError(f"VM {i} ({self.uuid(i)}) is not deployed, so it cannot power on")
        if powered_on:
            self._state[i] |= _POWERED_ON
        else:
            self._state[i] &= ~_POWERED_ON & 0xFF

    def deployed_count(self) -> int:
        """How many VMs are deployed now."""
        return self._deployed

    # ------------------------------------------------------------- disk content

    def _writes(self, i: int, at_s: float) -> int:
        """Guest writes to VM ``i`` at or before ``at_s``: one every interval, per-VM phase."""
        phase = int.from_bytes(self._digest(i)[7:11], "big") / 2**32 * self._write_interval
        if at_s < phase:
            return 0
        return int((at_s - phase) // self._write_interval) + 1

    def _check_disk(self, i: int, sequence: int) -> None:
        count = self.disk_count(i)
        if not 0 <= sequence < count:
            raise ValueError(
                f"VM {i} ({self.uuid(i)}) has disks 0 .. {count - 1}, not sequence {sequence}"
            )

    def disk_content(self, i: int, sequence: int, at_seconds: float) -> str:
        """An opaque token for the content of disk ``sequence`` of VM ``i`` at ``at_seconds``.

        The token changes at every guest write and never repeats an earlier state's: the
        original content is generation 0, and every restore starts a new generation.
        Works for any instant up to the latest restore applied.
        """
        self._check_disk(i, sequence)
        history = self._restores.get((i, sequence))
        if history:
            k = bisect_right(history, at_seconds, key=lambda entry: entry[0])
            if k:
                at, generation, token = history[k - 1]
                since = self._writes(i, at_seconds) - self._writes(i, at)
                return token if since == 0 else f"{generation}:{since}"
        return f"0:{self._writes(i, at_seconds)}"

    def restore_disk(self, i: int, sequence: int, token: str, at_seconds: float) -> None:
        """Set disk ``sequence`` of VM ``i`` to ``token`` at ``at_seconds``.

        Guest writes at that very instant count as earlier; later ones advance a fresh
        generation. Restores of one disk must be applied in time order.
        """
        self._check_disk(i, sequence)
        history = self._restores.setdefault((i, sequence), [])
        if history and at_seconds < history[-1][0]:
            raise ValueError(
                f"restores of VM {i} disk {sequence} must be applied in time order: "
                f"{at_seconds} is before the last one at {history[-1][0]}"
            )
        self._generations += 1
        history.append((float(at_seconds), self._generations, token))


def _disk_path(hypervisor_type: str, vm_name: str, sequence: int) -> str:
    """A datastore-like path that looks like the hypervisor's own."""
    if hypervisor_type == "KVM":
        return f"/var/lib/libvirt/images/{vm_name}-disk{sequence}.qcow2"
    if hypervisor_type == "HYPERV_301":
        return f"C:\\ClusterStorage\\Volume1\\{vm_name}\\{vm_name}_{sequence}.vhdx"
    if hypervisor_type == "XENSERVER":
        return f"/var/run/sr-mount/sr0/{vm_name}-{sequence}.vhd"
    return f"[datastore1] {vm_name}/{vm_name}_{sequence}.vmdk"
