/* feeds/net/secret: secrets from the environment or an owner-only file. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feeds/net/secret.h"

static const char value[] = "s3cr3t-Value-42";

/* A fresh file in a private temporary directory with mode and content. */
static void make_file(char *path, size_t cap, mode_t mode, const char *content)
{
	char dir[] = "/tmp/fks-secret-XXXXXX";
	cr_assert(mkdtemp(dir));
	snprintf(path, cap, "%s/key", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
}

/* No status text may carry the secret. */
static void assert_text_is_clean(int rc)
{
	cr_assert_null(strstr(secret_strerror(rc), value), "status %d prints the secret", rc);
	cr_assert_null(strstr(secret_strerror(rc), "s3cr3t"));
}

Test(secret, from_env)
{
	setenv("FKS_TEST_SECRET", value, 1);
	char out[SECRET_MAX];
	size_t len = 0;
	cr_assert_eq(secret_from_env("FKS_TEST_SECRET", out, sizeof out, &len), SECRET_OK);
	cr_assert_str_eq(out, value);
	cr_assert_eq(len, strlen(value));
	secret_wipe(out, sizeof out);
	cr_assert_eq(out[0], 0);
}

Test(secret, env_unset_and_empty_are_refused)
{
	unsetenv("FKS_TEST_SECRET_NONE");
	char out[SECRET_MAX];
	size_t len = 0;
	int rc = secret_from_env("FKS_TEST_SECRET_NONE", out, sizeof out, &len);
	cr_assert_eq(rc, SECRET_ENV_UNSET);
	cr_assert(strstr(secret_strerror(rc), "not set"));
	setenv("FKS_TEST_SECRET_EMPTY", "", 1);
	rc = secret_from_env("FKS_TEST_SECRET_EMPTY", out, sizeof out, &len);
	cr_assert_eq(rc, SECRET_EMPTY);
	cr_assert(strstr(secret_strerror(rc), "empty"));
}

Test(secret, from_a_0600_file_drops_one_trailing_newline)
{
	char path[256], content[64];
	snprintf(content, sizeof content, "%s\r\n", value);
	make_file(path, sizeof path, 0600, content);
	char out[SECRET_MAX];
	size_t len = 0;
	cr_assert_eq(secret_from_file(path, out, sizeof out, &len), SECRET_OK);
	cr_assert_str_eq(out, value);
	cr_assert_eq(len, strlen(value));
}

Test(secret, group_or_other_readable_file_is_refused)
{
	static const mode_t modes[] = { 0640, 0604, 0644, 0660, 0610 };
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		char path[256];
		make_file(path, sizeof path, modes[i], value);
		char out[SECRET_MAX];
		size_t len = 0;
		int rc = secret_from_file(path, out, sizeof out, &len);
		cr_assert_eq(rc, SECRET_OPEN_TO_OTHERS, "mode %o: %d", (unsigned)modes[i], rc);
		cr_assert_null(strstr(out, value), "nothing of the secret is handed back");
		cr_assert(strstr(secret_strerror(rc), "chmod 600"));
		assert_text_is_clean(rc);
	}
}

Test(secret, missing_file_is_refused)
{
	char out[SECRET_MAX];
	size_t len = 0;
	int rc = secret_from_file("/nonexistent/fks/secret.key", out, sizeof out, &len);
	cr_assert_eq(rc, SECRET_NO_FILE);
	cr_assert(strstr(secret_strerror(rc), "does not exist"));
}

Test(secret, empty_file_and_lone_newline_are_refused)
{
	const char *contents[] = { "", "\n", "\r\n" };
	for (size_t i = 0; i < 3; i++) {
		char path[256];
		make_file(path, sizeof path, 0600, contents[i]);
		char out[SECRET_MAX];
		size_t len = 0;
		int rc = secret_from_file(path, out, sizeof out, &len);
		cr_assert_eq(rc, SECRET_EMPTY, "content %zu: %d", i, rc);
		assert_text_is_clean(rc);
	}
}

Test(secret, directory_and_oversized_secret_are_refused)
{
	char out[SECRET_MAX];
	size_t len = 0;
	char dir[] = "/tmp/fks-secret-dir-XXXXXX";
	cr_assert(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_assert_eq(secret_from_file(dir, out, sizeof out, &len), SECRET_NOT_REGULAR);
	char path[256];
	make_file(path, sizeof path, 0600, value);
	char small[8];
	int rc = secret_from_file(path, small, sizeof small, &len);
	cr_assert_eq(rc, SECRET_TOO_LONG);
	for (size_t i = 0; i < sizeof small; i++)
		cr_assert_eq(small[i], 0, "a refused secret leaves nothing behind");
	assert_text_is_clean(rc);
}
