#include "pipeline/runtime/proctitle.h"

#include <string.h>
#include <sys/prctl.h>

static char *area;    /* argv[0] .. end of the last contiguous argv string */
static size_t area_len;

void proctitle_init(int argc, char **argv)
{
	if (argc <= 0 || !argv[0])
		return;
	char *end = argv[0] + strlen(argv[0]) + 1;
	/* argv strings are laid out back to back; stop at the first gap. */
	for (int i = 1; i < argc && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	area = argv[0];
	area_len = (size_t)(end - argv[0]);
}

void proctitle_set(const char *title)
{
	prctl(PR_SET_NAME, title, 0, 0, 0);
	if (!area || area_len < 2)
		return;
	size_t n = strlen(title);
	if (n > area_len - 1)
		n = area_len - 1;
	memcpy(area, title, n);
	/* Zero the rest: ps joins the remaining NUL-separated strings. */
	memset(area + n, 0, area_len - n);
}
