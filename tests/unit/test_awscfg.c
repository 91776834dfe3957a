/* test_awscfg.c - credentials, Region and endpoint from the environment
 * and from shared credentials and config files with profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "awscfg.h"
#include "err.h"

static char dir[64];
static char cred_path[128], conf_path[128];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* a clean environment: nothing AWS, files of our own */
static void reset(void)
{
	static const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
				     "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
				     "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
				     "AWS_ENDPOINT_URL_S3", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
				     "AWS_CONTAINER_CREDENTIALS_FULL_URI",
				     "AWS_CONTAINER_AUTHORIZATION_TOKEN",
				     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
				     "AWS_EC2_METADATA_SERVICE_ENDPOINT"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/ts_awscfg_XXXXXX");
		CHECK(mkdtemp(dir) != NULL);
		snprintf(cred_path, sizeof cred_path, "%s/credentials", dir);
		snprintf(conf_path, sizeof conf_path, "%s/config", dir);
	}
	unlink(cred_path);
	unlink(conf_path);
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	setenv("AWS_CONFIG_FILE", conf_path, 1);
	setenv("HOME", dir, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1); /* test_awsfetch tries it */
}

static void test_env(void)
{
	reset();
	ts_awscfg c;
	char err[512];
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret/env+", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	/* files are there too: the environment wins */
	write_file(cred_path, "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDENV");
	CHECK_STR(c.secret, "secret/env+");
	CHECK_STR(c.token, "tok");
	CHECK_STR(c.region, "eu-west-3");
	CHECK_STR(c.cred_from, "the environment");
	CHECK_STR(c.endpoint, "");
	setenv("AWS_REGION", "ap-south-1", 1); /* before AWS_DEFAULT_REGION */
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.region, "ap-south-1");
	/* a key id alone is not credentials: the file's are used */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDFILE");
	CHECK_STR(c.token, "");
}

static void test_profiles(void)
{
	reset();
	ts_awscfg c;
	char err[512];
	write_file(cred_path, "# comment\n[default]\naws_access_key_id=AKIDDEF\n"
			      "aws_secret_access_key=sdef\n\n[dev]\n  aws_access_key_id = AKIDDEV  \n"
			      "aws_secret_access_key = sdev\naws_session_token = tdev\n");
	write_file(conf_path, "[default]\nregion = us-west-2\n[profile dev]\nregion=eu-central-1\n"
			      "[profile cfgonly]\naws_access_key_id = AKIDCFG\n"
			      "aws_secret_access_key = scfg\n; nothing\n");
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDDEF");
	CHECK_STR(c.secret, "sdef");
	CHECK_STR(c.token, "");
	CHECK_STR(c.region, "us-west-2");
	CHECK_STR(c.region_from, "the config file");
	CHECK_STR(c.cred_from, "the shared credentials file");
	setenv("AWS_PROFILE", "dev", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDDEV");
	CHECK_STR(c.secret, "sdev");
	CHECK_STR(c.token, "tdev");
	CHECK_STR(c.region, "eu-central-1");
	CHECK_STR(c.profile, "dev");
	setenv("AWS_PROFILE", "cfgonly", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDCFG");
	CHECK_STR(c.cred_from, "the config file");
	CHECK_STR(c.region, "us-east-1"); /* none anywhere: the default */
	setenv("AWS_PROFILE", "missing", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "no AWS credentials") != NULL);
	CHECK(strstr(err, "'missing'") != NULL);
	CHECK(strstr(err, cred_path) != NULL);
	/* no files at all */
	reset();
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	/* ~/.aws/credentials when the variables do not say */
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	char awsdir[128], home_cred[160];
	snprintf(awsdir, sizeof awsdir, "%s/.aws", dir);
	mkdir(awsdir, 0700);
	snprintf(home_cred, sizeof home_cred, "%s/credentials", awsdir);
	write_file(home_cred, "[default]\naws_access_key_id=AKIDHOME\naws_secret_access_key=h\n");
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDHOME");
	unlink(home_cred);
	rmdir(awsdir);
}

static void test_endpoint(void)
{
	reset();
	ts_awscfg c;
	char err[512];
	setenv("AWS_ACCESS_KEY_ID", "a", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "b", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.endpoint, "http://127.0.0.1:9000");
	setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.net", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.endpoint, "https://s3.example.net");
	CHECK_INT(ts_awscfg_load(&c, "http://localhost:4568", err, sizeof err), 0);
	CHECK_STR(c.endpoint, "http://localhost:4568");
	CHECK_INT(ts_awscfg_load(&c, "localhost:4568", err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "--endpoint-url") != NULL);
	setenv("AWS_REGION", "us east", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "AWS_REGION") != NULL);
}

static void test_ini(void)
{
	reset();
	char v[8];
	write_file(cred_path, "[a]\nk = 1234567\nlong = 12345678\n[b]\nk=2\n");
	CHECK_INT(ts_awscfg_ini_get(cred_path, "a", "k", v, sizeof v), 1);
	CHECK_STR(v, "1234567");
	CHECK_INT(ts_awscfg_ini_get(cred_path, "a", "long", v, sizeof v), -2);
	CHECK_INT(ts_awscfg_ini_get(cred_path, "b", "k", v, sizeof v), 1);
	CHECK_STR(v, "2");
	CHECK_INT(ts_awscfg_ini_get(cred_path, "c", "k", v, sizeof v), 0);
	CHECK_INT(ts_awscfg_ini_get("/nonexistent/x", "a", "k", v, sizeof v), -1);
	/* a value too long for its field is an error, never cut */
	write_file(cred_path, "[default]\naws_access_key_id=");
	FILE *f = fopen(cred_path, "a");
	for (int i = 0; i < 200; i++)
		fputc('A', f);
	fputs("\naws_secret_access_key=x\n", f);
	fclose(f);
	ts_awscfg c;
	char err[512];
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "too long") != NULL);
	unlink(cred_path);
	unlink(conf_path);
	rmdir(dir);
}

TS_TESTS(test_env, test_profiles, test_endpoint, test_ini)
