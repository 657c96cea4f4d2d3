/* Attach refuses every kind of bad segment, each with its own error.  Each
 * test makes a good ring, damages one thing through the file, and attaches. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "tests/shm/ring_fixture.h"

static char name[96];

static void setup(void)
{
	fix_name(name, sizeof name, "attach");
	cr_assert_eq(ring_create(name, 64, 64), RING_OK);
}

static void teardown(void) { ring_unlink(name); }

TestSuite(ring_attach, .init = setup, .fini = teardown);

static int open_segment(void)
{
	char path[128];
	snprintf(path, sizeof path, "/dev/shm/%s", name);
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0, "open %s", path);
	return fd;
}

/* Overwrite `len` bytes of the header at `off`. */
static void poke(size_t off, const void *bytes, size_t len)
{
	int fd = open_segment();
	cr_assert_eq(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static int attach_both_ways(void)
{
	struct ring_producer p;
	struct ring_consumer c;
	int rp = ring_producer_attach(&p, name, 64, 64, NULL);
	int rc = ring_consumer_attach(&c, name, 64, 64, NULL);
	cr_assert_eq(rp, rc, "producer and consumer attach must agree (%d vs %d)", rp, rc);
	if (rp == RING_OK) {
		ring_producer_detach(&p);
		ring_consumer_detach(&c);
	}
	return rp;
}

Test(ring_attach, good_segment_attaches)
{
	cr_assert_eq(attach_both_ways(), RING_OK);
	struct stat st;
	int fd = open_segment();
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	cr_assert_eq(st.st_mode & 0777, 0600, "segment mode is %o", st.st_mode & 0777);
}

Test(ring_attach, created_0600_even_with_a_permissive_umask)
{
	mode_t old = umask(0);
	char n[96];
	fix_name(n, sizeof n, "umask");
	cr_assert_eq(ring_create(n, 64, 16), RING_OK);
	umask(old);
	char path[128];
	snprintf(path, sizeof path, "/dev/shm/%s", n);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	ring_unlink(n);
	cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(ring_attach, wrong_magic)
{
	uint64_t bad = 0x1122334455667788ull;
	poke(offsetof(struct ring_shared, magic), &bad, sizeof bad);
	cr_assert_eq(attach_both_ways(), RING_E_MAGIC);
}

Test(ring_attach, wrong_version)
{
	uint32_t v = RING_LAYOUT_VERSION + 1;
	poke(offsetof(struct ring_shared, version), &v, sizeof v);
	cr_assert_eq(attach_both_ways(), RING_E_VERSION);
}

Test(ring_attach, wrong_slot_size)
{
	struct ring_producer p;
	cr_assert_eq(ring_producer_attach(&p, name, 128, 64, NULL), RING_E_SLOT_SIZE);
	uint32_t odd = 100; /* and a header whose own slot size is invalid */
	poke(offsetof(struct ring_shared, slot_size), &odd, sizeof odd);
	cr_assert_eq(ring_producer_attach(&p, name, 0, 0, NULL), RING_E_SLOT_SIZE);
}

Test(ring_attach, wrong_capacity)
{
	struct ring_consumer c;
	cr_assert_eq(ring_consumer_attach(&c, name, 64, 128, NULL), RING_E_CAPACITY);
	uint64_t odd = 48;
	poke(offsetof(struct ring_shared, capacity), &odd, sizeof odd);
	cr_assert_eq(ring_consumer_attach(&c, name, 0, 0, NULL), RING_E_CAPACITY);
}

Test(ring_attach, segment_shorter_than_a_header)
{
	int fd = open_segment();
	cr_assert_eq(ftruncate(fd, 100), 0);
	close(fd);
	cr_assert_eq(attach_both_ways(), RING_E_SHORT);
}

Test(ring_attach, segment_shorter_than_its_slots)
{
	int fd = open_segment();
	cr_assert_eq(ftruncate(fd, (off_t)ring_segment_size(64, 64) - 64), 0);
	close(fd);
	cr_assert_eq(attach_both_ways(), RING_E_SHORT);
}

Test(ring_attach, header_names_another_owner)
{
	uint32_t uid = (uint32_t)geteuid() + 1;
	poke(offsetof(struct ring_shared, owner_uid), &uid, sizeof uid);
	cr_assert_eq(attach_both_ways(), RING_E_OWNER);
}

Test(ring_attach, file_owned_by_another_user)
{
	if (geteuid() != 0)
		cr_skip_test("changing a file's owner needs root");
	int fd = open_segment();
	cr_assert_eq(fchown(fd, 4242, 4242), 0);
	close(fd);
	cr_assert_eq(attach_both_ways(), RING_E_OWNER);
}

Test(ring_attach, group_readable)
{
	int fd = open_segment();
	cr_assert_eq(fchmod(fd, 0640), 0);
	close(fd);
	cr_assert_eq(attach_both_ways(), RING_E_PERMS);
}

Test(ring_attach, world_readable)
{
	int fd = open_segment();
	cr_assert_eq(fchmod(fd, 0604), 0);
	close(fd);
	cr_assert_eq(attach_both_ways(), RING_E_PERMS);
}

Test(ring_attach, missing_segment)
{
	struct ring_producer p;
	cr_assert_eq(ring_producer_attach(&p, "fks-test-no-such-ring", 64, 64, NULL), RING_E_NOENT);
	cr_assert_eq(ring_producer_attach(&p, "bad/name", 64, 64, NULL), RING_E_NAME);
}

Test(ring_attach, observer_validates_too)
{
	const struct ring_shared *s;
	size_t len;
	cr_assert_eq(ring_observe(name, &s, &len), RING_OK);
	cr_assert_eq(s->capacity, 64);
	ring_unobserve(s, len);
	uint32_t v = 99;
	poke(offsetof(struct ring_shared, version), &v, sizeof v);
	cr_assert_eq(ring_observe(name, &s, &len), RING_E_VERSION);
}
