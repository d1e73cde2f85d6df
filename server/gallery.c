/* gallery.c -- read the certificate gallery's index (certs/out/gallery/index.tsv): one HTTPS
 * port per scenario, each with the verdict a careful client must reach. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Split line at tabs into at most n fields (in place). Returns the count. */
static int
split(char *line, char **f, int n)
{
	int k = 0;
	char *p = line;

	while (k < n) {
		f[k++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	return k;
}

/* Returns the number of scenarios, or -1 with a plain-words reason in err. */
int
gallery_load(const char *dir, struct scenario *sc, int max, char *err, size_t errlen)
{
	char path[600], line[2048], *f[10], *end;
	FILE *fp;
	int n = 0, lineno = 0, k;

	snprintf(path, sizeof(path), "%s/index.tsv", dir);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, TR("cannot read the gallery index '%s': %s%s",
		    "无法读取证书画廊索引 '%s'：%s%s"), path, strerror(errno), errno == ENOENT ?
		    TR(" (make it with 'certs/make-certs.sh --gallery')",
		    "（用 'certs/make-certs.sh --gallery' 生成）") : "");
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((k = split(line, f, 10)) < 10) {
			snprintf(err, errlen, TR("%s line %d: %d fields, expected 10",
			    "%s 第 %d 行：%d 个字段，应为 10 个"), path, lineno, k);
			goto fail;
		}
		if (n == max) {
			snprintf(err, errlen, TR("%s: more than %d scenarios", "%s：场景多于 %d 个"),
			    path, max);
			goto fail;
		}
		snprintf(sc[n].name, sizeof(sc[n].name), "%s", f[0]);
		snprintf(sc[n].chain, sizeof(sc[n].chain), "%s/%s", dir, f[1]);
		snprintf(sc[n].key, sizeof(sc[n].key), "%s/%s", dir, f[2]);
		sc[n].expected = (int)strtol(f[3], &end, 10);
		if (*end != '\0') {
			snprintf(err, errlen, TR("%s line %d: expected verdict '%s' is not a number",
			    "%s 第 %d 行：预期结论 '%s' 不是数字"), path, lineno, f[3]);
			goto fail;
		}
		sc[n].weak = strcmp(f[4], "0") == 0;
		sc[n].crl = strcmp(f[5], "yes") == 0;
		snprintf(sc[n].description, sizeof(sc[n].description), "%s", f[9]);
		sc[n].port = 0;
		n++;
	}
	fclose(fp);
	if (n == 0) {
		snprintf(err, errlen, TR("%s lists no scenario", "%s 没有列出任何场景"), path);
		return -1;
	}
	return n;
fail:
	fclose(fp);
	return -1;
}
