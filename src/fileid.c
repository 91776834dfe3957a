/* fileid.c - the checkpoint name of an input file, from its real path.
 * Holds nothing: realpath's buffer is freed before it returns.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "fileid.h"
#include "util.h"

int ts_file_id_of(const char *path, char *name, size_t cap, ts_file_id *out)
{
	struct stat sb;
	char *real = realpath(path, NULL);
	if (!real || stat(real, &sb) != 0 || cap == 0) {
		free(real);
		return TS_EIO;
	}
	const char *from = real, *p = real;
	while ((p = strstr(p, "/AWSLogs/")) != NULL)
		from = ++p;
	snprintf(name, cap, "%s", from);
	free(real);
	out->name = name;
	out->size = (uint64_t)sb.st_size;
	out->mtime = (int64_t)sb.st_mtime;
	return 0;
}
