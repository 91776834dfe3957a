/* gen.c - trailsight-gen: writes deterministic, realistic CloudTrail log
 * files (S3 layout, gzip) with labelled anomalies, for the demo, the tests
 * and the detection-quality benchmark. Options and the labels format: --help
 * and tools/GEN.md.
 *
 * Model, built once from --seed before any output (identical in every job):
 *   svc_table -> struct api: the --apis chosen (eventSource, eventName) pairs
 *     with their Zipf share of the rate and daily/weekly curve (with
 *     --weekends varied, a weekly class and a weekend level per calendar
 *     week, api.wk, from a stream of its own: plan_weekends);
 *   struct account: a 12-digit id and a pool of principals (users, roles,
 *     services) whose userIdentity JSON is prebuilt;
 *   struct part: one (account, Region) with a struct papi per API: base rate,
 *     principals and user agents, error codes, regular role (rare, cron,
 *     chronic errors) and at most one anomaly (struct anomaly, the labels).
 * Generation: a work unit is (partition, delivery day). Every random draw
 *   comes from an RNG seeded by (seed, purpose, partition, minute or slot),
 *   so a unit can be generated alone and the output is byte-identical for
 *   any --jobs. Events of a 5-minute slot are small struct ev (time, API,
 *   principal, error, seed of the record's ids) held in two bins (this slot,
 *   and the next for late deliveries); a file is formatted into one buffer,
 *   gzipped with deflate and written. Memory is O(events of two slots).
 * Ownership: the model lives in struct gen (strings in its arena) and is
 *   freed at exit; each job owns its struct worker buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>

#include "util.h"

#define PROG "trailsight-gen"
#define SLOT_MIN (g->o.file_min) /* minutes of events per delivered file (default 5) */
#define MAX_PRIN 6           /* regular principals per API */
#define SPECIAL MAX_PRIN     /* principal slot of the cron role / spike user */
#define NRES 40              /* resources (buckets, instances, ...) per API */
#define LATE_FRAC 0.015      /* records delivered one file later */
#define JITTER_MS 20000      /* order noise inside a file */
#define REC_MAX 8192         /* bound on one formatted record */
#define EV_CAP (16u << 20)   /* events held for one slot (~800 MB) */
#define ZCHUNK (256u << 10)

/* kinds --kinds chooses from, then those of --job-anomalies */
enum { K_SPIKE, K_DROP, K_ERROR, K_RAMP, K_COUNT, K_JOBSTOP = K_COUNT, K_JOBBURST, K_ALL };
static const char *const kind_names[K_ALL] = {"spike", "drop",     "error",
					      "ramp",  "job_stop", "job_burst"};

enum { R_NORMAL, R_HOURLY, R_DAILY, R_CHRONIC };
enum { PU_MODEL = 1, PU_ACCOUNT, PU_PART, PU_MINUTE, PU_SLOT, PU_DIGEST, PU_PLAN, PU_JOB,
       PU_WEEK, PU_JOBANOM };
/* --weekends varied: an API's weekly class */
enum { W_MACHINE, W_MIXED, W_PEOPLE };
enum { PT_USER, PT_ROLE, PT_SERVICE };
enum { AG_CLI, AG_BOTO, AG_CONSOLE, AG_TF, AG_GO, AG_JAVA, AG_JS, AG_SVC, AG_ODD };
enum { C_LIST, C_GET, C_CREATE, C_MODIFY, C_DELETE };
enum { V_HEX, V_NAME, V_URL, V_UUID, V_ROLEARN, V_ARN, V_PATH, V_ZONE, V_ALNUM, V_HEX32,
       V_LOGGROUP };

static const char *const regions[] = {
	"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1",
	"ap-northeast-1", "us-east-2", "eu-west-2", "ap-south-1", "ca-central-1",
	"sa-east-1", "ap-southeast-1", "eu-north-1", "us-west-1", "ap-northeast-2",
	"eu-west-3", "af-south-1"};

/* ---------------------------------------------------------------- catalog */

/* One AWS service: its endpoint, how its resources are named, its error
 * codes and its management API names (space separated). */
struct svc {
	const char *source; /* eventSource */
	const char *iam;    /* IAM action prefix */
	const char *cli;    /* aws-cli service name */
	int global;         /* endpoint has no Region */
	const char *key;    /* request parameter naming the resource; "*X": noun + X */
	int vfmt;           /* V_*: how resource values look */
	const char *codes;
	const char *apis;
};

static const struct svc svc_table[] = {
	{"ec2.amazonaws.com", "ec2", "ec2", 0, "*Id", V_HEX,
	 "Client.UnauthorizedOperation Client.RequestLimitExceeded Client.InvalidParameterValue "
	 "Client.DryRunOperation Client.InvalidInstanceID.NotFound Server.InternalError",
	 "DescribeInstances DescribeSecurityGroups DescribeVolumes DescribeSubnets DescribeVpcs "
	 "DescribeImages DescribeSnapshots DescribeNetworkInterfaces DescribeAddresses "
	 "DescribeInstanceStatus DescribeLaunchTemplates DescribeKeyPairs DescribeRouteTables "
	 "RunInstances TerminateInstances StartInstances StopInstances RebootInstances CreateTags "
	 "DeleteTags CreateSnapshot DeleteSnapshot CreateVolume AttachVolume DetachVolume "
	 "DeleteVolume AuthorizeSecurityGroupIngress RevokeSecurityGroupIngress "
	 "CreateSecurityGroup DeleteSecurityGroup ModifyInstanceAttribute CreateNetworkInterface "
	 "DeleteNetworkInterface AllocateAddress AssociateAddress CreateLaunchTemplateVersion"},
	{"s3.amazonaws.com", "s3", "s3api", 0, "bucketName", V_NAME,
	 "AccessDenied NoSuchBucket NoSuchBucketPolicy NoSuchTagSet SlowDown",
	 "ListBuckets GetBucketAcl GetBucketPolicy GetBucketLocation GetBucketVersioning "
	 "GetBucketEncryption GetBucketTagging GetBucketLogging GetBucketPublicAccessBlock "
	 "GetBucketLifecycle CreateBucket DeleteBucket PutBucketPolicy PutBucketTagging "
	 "PutBucketEncryption PutBucketLifecycle PutBucketVersioning DeleteBucketPolicy "
	 "PutBucketPublicAccessBlock PutBucketAcl"},
	{"iam.amazonaws.com", "iam", "iam", 1, "*Name", V_NAME,
	 "AccessDenied NoSuchEntityException Throttling EntityAlreadyExistsException "
	 "LimitExceededException",
	 "ListRoles ListUsers ListPolicies GetRole GetUser GetPolicy GetPolicyVersion "
	 "ListAttachedRolePolicies ListRolePolicies ListAccessKeys GetAccountAuthorizationDetails "
	 "ListGroupsForUser CreateRole DeleteRole AttachRolePolicy DetachRolePolicy PutRolePolicy "
	 "CreatePolicy CreatePolicyVersion CreateAccessKey DeleteAccessKey UpdateAssumeRolePolicy "
	 "TagRole CreateUser DeleteUser UpdateAccessKey"},
	{"sts.amazonaws.com", "sts", "sts", 0, "roleArn", V_ROLEARN,
	 "AccessDenied ExpiredTokenException RegionDisabledException InvalidIdentityToken",
	 "AssumeRole AssumeRoleWithWebIdentity AssumeRoleWithSAML GetCallerIdentity "
	 "GetSessionToken GetFederationToken DecodeAuthorizationMessage"},
	{"lambda.amazonaws.com", "lambda", "lambda", 0, "functionName", V_NAME,
	 "AccessDeniedException ResourceNotFoundException ThrottlingException "
	 "InvalidParameterValueException ResourceConflictException TooManyRequestsException",
	 "ListFunctions20150331 GetFunction20150331v2 GetFunctionConfiguration20150331v2 "
	 "ListVersionsByFunction20150331 ListAliases20150331 GetPolicy20150331v2 "
	 "ListEventSourceMappings20150331 CreateFunction20150331 UpdateFunctionCode20150331v2 "
	 "UpdateFunctionConfiguration20150331v2 DeleteFunction20150331 PublishVersion20150331 "
	 "AddPermission20150331v2 RemovePermission20150331v2 CreateEventSourceMapping20150331 "
	 "PutFunctionConcurrency20171031 TagResource20170331v2"},
	{"dynamodb.amazonaws.com", "dynamodb", "dynamodb", 0, "tableName", V_NAME,
	 "AccessDenied ResourceNotFoundException ThrottlingException ValidationException "
	 "ResourceInUseException",
	 "ListTables DescribeTable DescribeContinuousBackups DescribeTimeToLive ListTagsOfResource "
	 "DescribeGlobalTable ListBackups CreateTable DeleteTable UpdateTable UpdateTimeToLive "
	 "CreateBackup DeleteBackup TagResource UntagResource UpdateContinuousBackups"},
	{"kms.amazonaws.com", "kms", "kms", 0, "keyId", V_UUID,
	 "AccessDeniedException NotFoundException ThrottlingException InvalidCiphertextException "
	 "KMSInvalidStateException",
	 "Decrypt Encrypt GenerateDataKey ListKeys ListAliases DescribeKey GetKeyPolicy "
	 "GetKeyRotationStatus ListGrants CreateKey ScheduleKeyDeletion EnableKeyRotation "
	 "PutKeyPolicy CreateAlias DeleteAlias CreateGrant RetireGrant DisableKey"},
	{"rds.amazonaws.com", "rds", "rds", 0, "*Identifier", V_NAME,
	 "AccessDenied DBInstanceNotFoundFault Throttling InvalidParameterValue "
	 "InvalidDBInstanceStateFault",
	 "DescribeDBInstances DescribeDBClusters DescribeDBSnapshots DescribeDBParameterGroups "
	 "DescribeDBSubnetGroups DescribeEvents DescribeDBEngineVersions ListTagsForResource "
	 "CreateDBInstance DeleteDBInstance ModifyDBInstance RebootDBInstance CreateDBSnapshot "
	 "DeleteDBSnapshot StartDBInstance StopDBInstance AddTagsToResource"},
	{"logs.amazonaws.com", "logs", "logs", 0, "logGroupName", V_LOGGROUP,
	 "AccessDeniedException ResourceNotFoundException ThrottlingException "
	 "InvalidParameterException ResourceAlreadyExistsException",
	 "DescribeLogGroups DescribeLogStreams DescribeMetricFilters DescribeSubscriptionFilters "
	 "DescribeQueries GetQueryResults CreateLogGroup DeleteLogGroup CreateLogStream "
	 "PutRetentionPolicy PutSubscriptionFilter PutMetricFilter DeleteLogStream TagLogGroup "
	 "StartQuery"},
	{"monitoring.amazonaws.com", "cloudwatch", "cloudwatch", 0, "*Name", V_NAME,
	 "AccessDenied Throttling InvalidParameterValue ResourceNotFound",
	 "DescribeAlarms DescribeAlarmHistory GetMetricData GetMetricStatistics ListMetrics "
	 "ListDashboards GetDashboard DescribeAlarmsForMetric PutMetricAlarm DeleteAlarms "
	 "PutDashboard DeleteDashboards SetAlarmState EnableAlarmActions DisableAlarmActions"},
	{"cloudformation.amazonaws.com", "cloudformation", "cloudformation", 0, "stackName", V_NAME,
	 "AccessDenied Throttling ValidationError AlreadyExistsException",
	 "DescribeStacks DescribeStackEvents DescribeStackResources ListStacks GetTemplate "
	 "ListStackResources DescribeChangeSet ListExports CreateStack UpdateStack DeleteStack "
	 "CreateChangeSet ExecuteChangeSet DeleteChangeSet ContinueUpdateRollback"},
	{"sns.amazonaws.com", "sns", "sns", 0, "topicArn", V_ARN,
	 "AccessDenied Throttling NotFound InvalidParameter AuthorizationError",
	 "ListTopics ListSubscriptions GetTopicAttributes ListSubscriptionsByTopic "
	 "GetSubscriptionAttributes CreateTopic DeleteTopic Subscribe Unsubscribe "
	 "SetTopicAttributes TagResource"},
	{"sqs.amazonaws.com", "sqs", "sqs", 0, "queueUrl", V_URL,
	 "AccessDenied AWS.SimpleQueueService.NonExistentQueue RequestThrottled "
	 "InvalidParameterValue",
	 "ListQueues GetQueueAttributes GetQueueUrl ListQueueTags ListDeadLetterSourceQueues "
	 "CreateQueue DeleteQueue SetQueueAttributes PurgeQueue TagQueue"},
	{"ecs.amazonaws.com", "ecs", "ecs", 0, "cluster", V_NAME,
	 "AccessDeniedException ClusterNotFoundException ThrottlingException "
	 "InvalidParameterException ServiceNotFoundException ClientException",
	 "ListClusters DescribeClusters ListServices DescribeServices ListTasks DescribeTasks "
	 "DescribeTaskDefinition ListTaskDefinitions ListContainerInstances RegisterTaskDefinition "
	 "DeregisterTaskDefinition UpdateService CreateService DeleteService RunTask StopTask "
	 "CreateCluster"},
	{"eks.amazonaws.com", "eks", "eks", 0, "name", V_NAME,
	 "AccessDeniedException ResourceNotFoundException ThrottlingException "
	 "InvalidParameterException ResourceInUseException",
	 "ListClusters DescribeCluster ListNodegroups DescribeNodegroup ListAddons DescribeAddon "
	 "DescribeUpdate CreateNodegroup UpdateNodegroupConfig DeleteNodegroup UpdateClusterConfig "
	 "CreateAddon TagResource"},
	{"elasticloadbalancing.amazonaws.com", "elasticloadbalancing", "elbv2", 0, "*Arn", V_ARN,
	 "AccessDenied Throttling LoadBalancerNotFound TargetGroupNotFound ValidationError",
	 "DescribeLoadBalancers DescribeTargetGroups DescribeTargetHealth DescribeListeners "
	 "DescribeRules DescribeLoadBalancerAttributes DescribeTags RegisterTargets "
	 "DeregisterTargets CreateLoadBalancer DeleteLoadBalancer CreateTargetGroup "
	 "ModifyTargetGroup CreateListener ModifyListener CreateRule DeleteRule"},
	{"autoscaling.amazonaws.com", "autoscaling", "autoscaling", 0, "autoScalingGroupName",
	 V_NAME, "AccessDenied Throttling ValidationError ScalingActivityInProgress",
	 "DescribeAutoScalingGroups DescribeScalingActivities DescribeLaunchConfigurations "
	 "DescribePolicies DescribeLifecycleHooks DescribeAutoScalingInstances "
	 "UpdateAutoScalingGroup SetDesiredCapacity CompleteLifecycleAction "
	 "CreateAutoScalingGroup DeleteAutoScalingGroup PutScalingPolicy "
	 "TerminateInstanceInAutoScalingGroup CreateOrUpdateTags"},
	{"route53.amazonaws.com", "route53", "route53", 1, "hostedZoneId", V_ZONE,
	 "AccessDenied Throttling NoSuchHostedZone InvalidChangeBatch PriorRequestNotComplete",
	 "ListHostedZones GetHostedZone ListResourceRecordSets GetChange ListHealthChecks "
	 "GetHealthCheck ListTagsForResource ChangeResourceRecordSets CreateHostedZone "
	 "DeleteHostedZone CreateHealthCheck DeleteHealthCheck ChangeTagsForResource"},
	{"secretsmanager.amazonaws.com", "secretsmanager", "secretsmanager", 0, "secretId", V_PATH,
	 "AccessDeniedException ResourceNotFoundException ThrottlingException "
	 "InvalidRequestException DecryptionFailure",
	 "GetSecretValue DescribeSecret ListSecrets GetResourcePolicy ListSecretVersionIds "
	 "CreateSecret PutSecretValue UpdateSecret DeleteSecret RotateSecret TagResource "
	 "PutResourcePolicy"},
	{"ssm.amazonaws.com", "ssm", "ssm", 0, "name", V_PATH,
	 "AccessDeniedException ParameterNotFound ThrottlingException ValidationException "
	 "InvalidInstanceId",
	 "GetParameter GetParameters GetParametersByPath DescribeParameters "
	 "DescribeInstanceInformation ListCommands GetCommandInvocation ListAssociations "
	 "DescribeAssociation PutParameter DeleteParameter SendCommand StartSession "
	 "TerminateSession UpdateInstanceInformation CreateAssociation"},
	{"ecr.amazonaws.com", "ecr", "ecr", 0, "repositoryName", V_NAME,
	 "AccessDeniedException RepositoryNotFoundException ThrottlingException "
	 "ImageNotFoundException LayerAlreadyExistsException",
	 "GetAuthorizationToken DescribeRepositories DescribeImages ListImages BatchGetImage "
	 "GetDownloadUrlForLayer BatchCheckLayerAvailability GetRepositoryPolicy "
	 "GetLifecyclePolicy CreateRepository DeleteRepository PutImage InitiateLayerUpload "
	 "CompleteLayerUpload UploadLayerPart BatchDeleteImage PutLifecyclePolicy "
	 "SetRepositoryPolicy"},
	{"events.amazonaws.com", "events", "events", 0, "name", V_NAME,
	 "AccessDeniedException ResourceNotFoundException ThrottlingException ValidationException",
	 "ListRules DescribeRule ListTargetsByRule ListEventBuses DescribeEventBus PutRule "
	 "PutTargets RemoveTargets DeleteRule EnableRule DisableRule"},
	{"cloudtrail.amazonaws.com", "cloudtrail", "cloudtrail", 0, "name", V_NAME,
	 "AccessDenied TrailNotFoundException ThrottlingException "
	 "InvalidParameterCombinationException",
	 "DescribeTrails GetTrailStatus GetEventSelectors GetInsightSelectors ListTrails "
	 "LookupEvents GetTrail CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging "
	 "PutEventSelectors PutInsightSelectors"},
	{"kinesis.amazonaws.com", "kinesis", "kinesis", 0, "streamName", V_NAME,
	 "AccessDeniedException ResourceNotFoundException LimitExceededException "
	 "ResourceInUseException",
	 "ListStreams DescribeStream DescribeStreamSummary ListShards ListTagsForStream "
	 "CreateStream DeleteStream IncreaseStreamRetentionPeriod AddTagsToStream MergeShards "
	 "SplitShard UpdateShardCount"},
	{"elasticache.amazonaws.com", "elasticache", "elasticache", 0, "*Id", V_NAME,
	 "AccessDenied CacheClusterNotFound Throttling InvalidParameterValue",
	 "DescribeCacheClusters DescribeReplicationGroups DescribeCacheParameterGroups "
	 "DescribeSnapshots ListTagsForResource DescribeCacheSubnetGroups CreateCacheCluster "
	 "DeleteCacheCluster ModifyReplicationGroup CreateSnapshot DeleteSnapshot "
	 "RebootCacheCluster"},
	{"apigateway.amazonaws.com", "apigateway", "apigateway", 0, "restApiId", V_ALNUM,
	 "AccessDenied NotFoundException TooManyRequestsException BadRequestException "
	 "ConflictException",
	 "GetRestApis GetRestApi GetResources GetStages GetDeployments GetAuthorizers "
	 "CreateDeployment UpdateStage CreateRestApi DeleteRestApi PutMethod PutIntegration "
	 "CreateResource"},
	{"config.amazonaws.com", "config", "configservice", 0, "configRuleName", V_NAME,
	 "AccessDeniedException NoSuchConfigRuleException ThrottlingException ValidationException",
	 "DescribeConfigRules DescribeConfigurationRecorders DescribeComplianceByConfigRule "
	 "GetComplianceDetailsByConfigRule DescribeConfigRuleEvaluationStatus PutConfigRule "
	 "DeleteConfigRule PutEvaluations StartConfigRulesEvaluation PutConfigurationRecorder"},
	{"guardduty.amazonaws.com", "guardduty", "guardduty", 0, "detectorId", V_HEX32,
	 "AccessDeniedException BadRequestException InternalServerErrorException",
	 "ListDetectors GetDetector ListFindings GetFindings GetFindingsStatistics CreateDetector "
	 "UpdateDetector ArchiveFindings CreateFilter UpdateFindingsFeedback"},
};

static const char *const teams[] = {"payments", "orders", "search", "identity", "platform",
				    "data", "ml", "web", "mobile", "billing", "infra",
				    "analytics"};
static const char *const words[] = {"api", "worker", "ingest", "events", "reports", "cache",
				    "users", "sessions", "assets", "etl", "export", "notify"};
static const char *const envs[] = {"prod", "staging", "dev"};

/* Principals every account has: type, name, session name, user agent.
 * In names and sessions %h is 16 hex digits, %i an instance id, %d ten
 * digits, %x 32 hex digits. */
static const struct ptmpl {
	int type;
	const char *name;
	const char *session; /* roles; "" for console IAM users; NULL otherwise */
	int agent;
	const char *invoked; /* AWS service acting for it, or NULL */
} ptmpls[] = {
	{PT_USER, "alice", NULL, AG_CLI, NULL},
	{PT_USER, "bob", "", AG_CONSOLE, NULL},
	{PT_USER, "carol", NULL, AG_BOTO, NULL},
	{PT_USER, "ci-deploy", NULL, AG_BOTO, NULL},
	{PT_USER, "jenkins", NULL, AG_JAVA, NULL},
	{PT_USER, "terraform-ci", NULL, AG_TF, NULL},
	{PT_USER, "backup-agent", NULL, AG_GO, NULL},
	{PT_USER, "data-export", NULL, AG_BOTO, NULL},
	{PT_USER, "dave", NULL, AG_CLI, NULL},
	{PT_ROLE, "AWSReservedSSO_AdministratorAccess_%h", "alice.smith@example.com", AG_CONSOLE,
	 NULL},
	{PT_ROLE, "AWSReservedSSO_PowerUserAccess_%h", "dave.jones@example.com", AG_CLI, NULL},
	{PT_ROLE, "AWSReservedSSO_ReadOnlyAccess_%h", "erin.lee@example.com", AG_CONSOLE, NULL},
	{PT_ROLE, "eks-node-group-role", "%i", AG_GO, NULL},
	{PT_ROLE, "github-actions-deploy", "GitHubActions", AG_JS, NULL},
	{PT_ROLE, "terraform-apply", "terraform-%d", AG_TF, NULL},
	{PT_ROLE, "lambda-ingest-exec", "ingest-handler", AG_JS, NULL},
	{PT_ROLE, "ecs-task-orders", "%x", AG_JAVA, NULL},
	{PT_ROLE, "DatadogIntegrationRole", "DatadogAWSIntegration", AG_GO, NULL},
	{PT_ROLE, "karpenter-controller", "%d", AG_GO, NULL},
	{PT_ROLE, "OrganizationAccountAccessRole", "admin-session", AG_CLI, NULL},
	{PT_ROLE, "AWSServiceRoleForAutoScaling", "AutoScaling", AG_SVC,
	 "autoscaling.amazonaws.com"},
	{PT_ROLE, "AWSServiceRoleForECS", "ecs-service-scheduler", AG_SVC, "ecs.amazonaws.com"},
	{PT_SERVICE, "cloudformation.amazonaws.com", NULL, AG_SVC, "cloudformation.amazonaws.com"},
	{PT_SERVICE, "config.amazonaws.com", NULL, AG_SVC, "config.amazonaws.com"},
	{PT_SERVICE, "elasticloadbalancing.amazonaws.com", NULL, AG_SVC,
	 "elasticloadbalancing.amazonaws.com"},
};
#define NPOOL ((int)TS_ARRAY_LEN(ptmpls))

/* User agents of the unusual callers behind spikes. */
static const char *const odd_agents[] = {
	"aws-cli/1.16.312 Python/2.7.16 Linux/4.14.133-113.105.amzn2.x86_64 botocore/1.13.48",
	"Boto3/1.9.201 Python/2.7.16 Windows/10 Botocore/1.12.201",
	"python-requests/2.31.0",
	"Go-http-client/1.1",
	"curl/8.4.0",
	"aws-sdk-go/1.44.0 (go1.18; windows; amd64)",
	"Boto3/1.26.0 Python/3.7.3 Linux/5.4.0-kali3-amd64 Botocore/1.29.0",
	("aws-sdk-java/1.11.636 Windows_10/10.0 Java_HotSpot(TM)_64-Bit_Server_VM/25.221-b11 "
	 "java/1.8.0_221"),
	"S3 Browser/11.5.7 https://s3browser.com",
};

/* ------------------------------------------------------------ data types */

typedef struct rng {
	uint64_t s[4];
} rng;

/* Strings of the model, in 1 MB blocks that never move. */
struct ablock {
	struct ablock *next;
	size_t used, size;
	char data[];
};

struct api {
	const struct svc *svc;
	char name[64];    /* eventName */
	char action[64];  /* IAM action: eventName without a version suffix */
	int read_only;
	int vclass;       /* C_* */
	ts_str key;       /* request parameter naming the resource */
	ts_str noun;      /* kebab-case singular noun, for ARNs */
	char prefix[12];  /* id prefix for V_HEX */
	ts_str cmd;       /* aws-cli "ec2.describe-instances" */
	ts_str params1;   /* requestParameters: text before the resource value */
	ts_str params2;   /* ... and after it (params1 is the whole for C_LIST) */
	int modify_resp;  /* C_MODIFY: responseElements carries the resource */
	double share;     /* Zipf share of --rate; 0 for rare APIs */
	double night;     /* night level relative to the peak */
	double peak;      /* hour of day of the peak */
	double norm;      /* 1 / mean of the daily curve */
	double weekend;   /* weekend level relative to weekdays */
	int wclass;       /* W_*, with --weekends varied */
	double *wk;       /* --weekends varied: weekend level of each calendar week
			   * of the corpus (NULL without), gen.nweeks of them */
	int rare;
};

struct principal {
	int type, agent;
	int session;   /* userIdentity carries a creationDate between ui1 and ui2 */
	ts_str ui1, ui2;
	ts_str arn;    /* "" for AWSService */
	ts_str ip;     /* sourceIPAddress */
	ts_str who;    /* arn, or the service host, for error messages */
	uint64_t h;    /* client versions, session phase */
	int tls12;
};

struct account {
	char id[13];
	struct principal pool[NPOOL];
	char fingerprint[33];
};

/* One API in one partition. */
struct papi {
	double base; /* calls per minute before the daily/weekly curve */
	int nprin;
	const struct principal *prin[MAX_PRIN + 1];
	double pcum[MAX_PRIN];
	ts_str ua[MAX_PRIN + 1][2];
	ts_str res[NRES];
	double err_rate;
	int nerr;
	int16_t err[3];
	double ecum[3];
	int role; /* R_* */
	int cron_min, cron_calls;              /* R_HOURLY */
	int daily_min, daily_len, daily_calls; /* R_DAILY */
	int16_t chronic_code;                  /* R_CHRONIC */
	double chronic_frac;
	int rare_per_day;
	int anom; /* index into gen.anoms, or -1 */
};

struct part {
	int acct, region;
	double weight;
	struct papi *api;
};

struct anomaly {
	int kind, part, api;
	int64_t begin, start, end; /* minutes since the corpus start; start is labelled */
	double factor, base_rate, base_err, extra;
	int16_t code;
	int id;
};

struct opts {
	const char *out, *labels;
	const char *truth; /* --truth: write the model's rates there, no corpus */
	uint64_t seed;
	char start[11];
	int days, napis, naccounts, nregions, nanom, after, level, jobs, quiet;
	int file_min;   /* minutes of events per delivered file */
	int no_digests; /* write no digest files */
	int org;        /* organization mode: quiet partitions, fewer cron jobs */
	int job_drift;  /* a job's run starts up to this many minutes early or late */
	int weekends;   /* 1: --weekends varied (machine, mixed and people APIs) */
	int subtle;     /* --subtle: small spikes, partial drops, few errors */
	int job_anoms;  /* --job-anomalies: job runs stopped or ten times their size */
	double rate;
	double job_size_var; /* a job's run has its calls times 1 +- this */
	unsigned kinds;
};

struct gen {
	struct opts o;
	int64_t start_sec, start_day, total_min, nslots;
	struct api *apis;
	int napis;
	int nweeks; /* calendar weeks (Monday to Sunday) the corpus touches */
	struct account *accts;
	struct part *parts;
	int nparts;
	struct anomaly *anoms;
	int nanoms;
	const char *codes[256];
	int ncodes;
	struct ablock *arena;
};

/* One event waiting in a slot bin. */
struct ev {
	int64_t key;   /* order in the file: ms since corpus start + jitter */
	uint64_t seq;  /* tie break, unique */
	uint64_t seed; /* the record's own random fields */
	int32_t sec;   /* eventTime, seconds since the corpus start */
	uint16_t api;
	uint8_t prin, uav;
	int16_t err;   /* index into gen.codes, or -1 */
};

struct evbuf {
	struct ev *ev;
	size_t n, alloc;
};

struct finfo {
	char key[200]; /* S3 object key */
	int64_t oldest, newest;
};

struct stats {
	uint64_t files, digests, records, raw, gz;
};

struct datecache {
	int64_t day;
	char ymd[11];
};

struct worker {
	const struct gen *g;
	z_stream zs;
	int zinit;
	unsigned char *zout;
	ts_buf json;
	struct evbuf bins[2];
	struct finfo *hf; /* files delivered in the current hour */
	size_t nhf, ahf;
	char lastdir[PATH_MAX + 256];
	struct datecache dc;
	struct stats st;
};

/* ------------------------------------------------------------- utilities */

static void die_oom(void)
{
	fprintf(stderr, "%s: out of memory\n", PROG);
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die_oom();
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

static ts_str arena_str(struct gen *g, const char *s, size_t n)
{
	struct ablock *b = g->arena;
	if (!b || b->size - b->used < n + 1) {
		size_t size = n + 1 > (1u << 20) ? n + 1 : (1u << 20);
		b = malloc(sizeof *b + size);
		if (!b)
			die_oom();
		b->next = g->arena;
		b->used = 0;
		b->size = size;
		g->arena = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, n);
	p[n] = '\0';
	b->used += n + 1;
	return (ts_str){p, n};
}

static ts_str arena_cstr(struct gen *g, const char *s) { return arena_str(g, s, strlen(s)); }

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* An RNG for (seed, purpose, a, b): splitmix64 fills a xoshiro256** state. */
static void rng_init(rng *r, uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
	uint64_t x = mix64(seed + 0x9e3779b97f4a7c15ull);
	x = mix64(x ^ (purpose * 0xd1b54a32d192ed03ull + 0x2545f4914f6cdd1dull));
	x = mix64(x ^ (a * 0xaef17502108ef2d9ull + 0x632be59bd9b4e019ull));
	x = mix64(x ^ (b * 0x9e3779b97f4a7c15ull + 0x8cb92ba72f3d8dd7ull));
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ull;
		r->s[i] = mix64(x);
	}
}

static void rng_from(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		seed += 0x9e3779b97f4a7c15ull;
		r->s[i] = mix64(seed);
	}
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, 1). */
static inline double rng_unif(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n), n < 2^32. */
static inline uint32_t rng_below(rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_range(rng *r, double lo, double hi) { return lo + (hi - lo) * rng_unif(r); }

static double rng_logunif(rng *r, double lo, double hi)
{
	return exp(log(lo) + (log(hi) - log(lo)) * rng_unif(r));
}

static double rng_normal(rng *r)
{
	double u = 1.0 - rng_unif(r), v = rng_unif(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Poisson variate: inversion by sequential search below lambda 30, else
 * Hormann's transformed rejection with squeeze (PTRS, 1993). */
static uint32_t poisson(rng *r, double lam)
{
	if (!(lam > 0))
		return 0;
	if (lam < 30) {
		double p = exp(-lam), s = p, u = rng_unif(r);
		uint32_t k = 0;
		while (u > s && k < 1000) {
			k++;
			p *= lam / k;
			s += p;
		}
		return k;
	}
	double slam = sqrt(lam), loglam = log(lam);
	double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
	double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
	for (;;) {
		double u = rng_unif(r) - 0.5, v = rng_unif(r);
		double us = 0.5 - fabs(u);
		if (us <= 0)
			continue;
		double k = floor((2 * a / us + b) * u + lam + 0.43);
		if (us >= 0.07 && v <= vr)
			return (uint32_t)k;
		if (k < 0 || (us < 0.013 && v > us))
			continue;
		if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
		    -lam + k * loglam - lgamma(k + 1))
			return (uint32_t)k;
	}
}

static const char hexd[] = "0123456789abcdef";

static void rand_chars(rng *r, char *out, int n, const char *alphabet)
{
	uint32_t m = (uint32_t)strlen(alphabet);
	for (int i = 0; i < n; i++)
		out[i] = alphabet[rng_below(r, m)];
	out[n] = '\0';
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define IDCHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

/* ------------------------------------------------------------ formatting */

#define W_LIT(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) += sizeof(lit) - 1)

static inline char *w_str(char *w, ts_str s)
{
	memcpy(w, s.p, s.n);
	return w + s.n;
}

static inline char *w_cstr(char *w, const char *s)
{
	size_t n = strlen(s);
	memcpy(w, s, n);
	return w + n;
}

static inline char *w_2d(char *w, unsigned v)
{
	w[0] = (char)('0' + v / 10);
	w[1] = (char)('0' + v % 10);
	return w + 2;
}

static char *w_hex(char *w, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		w[i] = hexd[(v >> (4 * (n - 1 - i))) & 15];
	return w + n;
}

/* A version 4 UUID, lower case. */
static char *w_uuid(char *w, rng *r)
{
	uint64_t a = rng_next(r), b = rng_next(r);
	a = (a & ~(0xfull << 12)) | (4ull << 12);
	b = (b & ~(3ull << 62)) | (2ull << 62);
	w = w_hex(w, a >> 32, 8);
	*w++ = '-';
	w = w_hex(w, (a >> 16) & 0xffff, 4);
	*w++ = '-';
	w = w_hex(w, a & 0xffff, 4);
	*w++ = '-';
	w = w_hex(w, b >> 48, 4);
	*w++ = '-';
	return w_hex(w, b & 0xffffffffffffull, 12);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of epoch seconds. */
static char *w_time(char *w, struct datecache *dc, int64_t sec)
{
	int64_t day = ts_floordiv(sec, 86400);
	if (day != dc->day) {
		int64_t y;
		unsigned m, d;
		ts_civil_from_days(day, &y, &m, &d);
		snprintf(dc->ymd, sizeof dc->ymd, "%04d-%02u-%02u", (int)y, m, d);
		dc->day = day;
	}
	unsigned s = (unsigned)(sec - day * 86400);
	memcpy(w, dc->ymd, 10);
	w += 10;
	*w++ = 'T';
	w = w_2d(w, s / 3600);
	*w++ = ':';
	w = w_2d(w, s / 60 % 60);
	*w++ = ':';
	w = w_2d(w, s % 60);
	*w++ = 'Z';
	return w;
}

/* "YYYYMMDDTHHMMZ" of a minute since the epoch. */
static void stamp_minute(int64_t minute, char out[24])
{
	int64_t y;
	unsigned m, d;
	int64_t day = ts_day_of(minute);
	unsigned mod = (unsigned)(minute - day * TS_MIN_PER_DAY);
	ts_civil_from_days(day, &y, &m, &d);
	snprintf(out, 24, "%04d%02u%02uT%02u%02uZ", (int)y % 10000, m % 100, d % 100, mod / 60,
		 mod % 60);
}

/* "YYYY/MM/DD" of a minute since the epoch. */
static void date_path(int64_t minute, char out[16])
{
	int64_t y;
	unsigned m, d;
	ts_civil_from_days(ts_day_of(minute), &y, &m, &d);
	snprintf(out, 16, "%04d/%02u/%02u", (int)y % 10000, m % 100, d % 100);
}

/* ------------------------------------------------------------ the model */

static int is_read_name(const char *n)
{
	static const char *const pre[] = {"Describe", "List", "Get", "Lookup", "Search",
					  "BatchGet", "BatchCheck", "Decode", "Filter"};
	static const char *const exact[] = {"Decrypt", "Encrypt", "GenerateDataKey",
					    "AssumeRole", "AssumeRoleWithWebIdentity",
					    "AssumeRoleWithSAML"};
	for (size_t i = 0; i < TS_ARRAY_LEN(pre); i++)
		if (strncmp(n, pre[i], strlen(pre[i])) == 0)
			return 1;
	for (size_t i = 0; i < TS_ARRAY_LEN(exact); i++)
		if (strcmp(n, exact[i]) == 0)
			return 1;
	return 0;
}

/* Drops a Lambda-style version suffix ("20150331v2"). */
static void strip_version(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s", name);
	size_t len = strlen(out);
	if (len > 2 && out[len - 2] == 'v' && out[len - 1] >= '0' && out[len - 1] <= '9')
		len -= 2;
	while (len > 0 && out[len - 1] >= '0' && out[len - 1] <= '9')
		len--;
	out[len] = '\0';
}

static int is_up(char c) { return c >= 'A' && c <= 'Z'; }
static int is_low(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* CamelCase to kebab-case ("CreateDBInstance" -> "create-db-instance"). */
static void kebab(const char *s, char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; s[i] && o + 2 < n; i++) {
		char c = s[i];
		if (is_up(c) && i > 0 && (is_low(s[i - 1]) || (is_up(s[i - 1]) && is_low(s[i + 1]))))
			out[o++] = '-';
		out[o++] = is_up(c) ? (char)(c - 'A' + 'a') : c;
	}
	out[o] = '\0';
}

/* CamelCase to lowerCamel with a leading acronym lowered ("DBInstance" ->
 * "dbInstance"). */
static void lower_camel(const char *s, char *out, size_t n)
{
	snprintf(out, n, "%s", s);
	for (size_t i = 0; out[i] && is_up(out[i]); i++) {
		if (i > 0 && out[i + 1] && is_low(out[i + 1]))
			break;
		out[i] = (char)(out[i] - 'A' + 'a');
	}
}

static void singular(char *s)
{
	size_t n = strlen(s);
	if (n > 3 && strcmp(s + n - 3, "ies") == 0) {
		s[n - 3] = 'y';
		s[n - 2] = '\0';
	} else if (n > 4 && (strcmp(s + n - 4, "sses") == 0 || strcmp(s + n - 4, "uses") == 0 ||
			     strcmp(s + n - 4, "ases") == 0)) {
		s[n - 2] = '\0';
	} else if (n > 1 && s[n - 1] == 's' && s[n - 2] != 's' && s[n - 2] != 'u') {
		s[n - 1] = '\0';
	}
}

/* Fills the naming fields of an API from its service and name. */
static void describe_api(struct gen *g, struct api *ap, rng *r)
{
	char buf[160], noun[64], sing[64], t[128];
	strip_version(ap->name, ap->action, sizeof ap->action);
	ap->read_only = is_read_name(ap->name);
	/* the verb is the first capitalised word */
	size_t v = 1;
	while (ap->action[v] && !is_up(ap->action[v]))
		v++;
	snprintf(noun, sizeof noun, "%s", ap->action + v);
	if (!noun[0])
		snprintf(noun, sizeof noun, "%s", "Resource");
	snprintf(sing, sizeof sing, "%s", noun);
	singular(sing);
	int plural = strcmp(sing, noun) != 0;
	const char *verb = ap->action;
	if (ap->read_only)
		ap->vclass = (plural || strncmp(verb, "List", 4) == 0 || !strncmp(verb, "Lookup", 6))
				     ? C_LIST
				     : C_GET;
	else if (!strncmp(verb, "Create", 6) || !strncmp(verb, "Run", 3) ||
		 !strncmp(verb, "Allocate", 8) || !strncmp(verb, "Register", 8) ||
		 !strncmp(verb, "Publish", 7) || !strncmp(verb, "Initiate", 8))
		ap->vclass = C_CREATE;
	else if (!strncmp(verb, "Delete", 6) || !strncmp(verb, "Terminate", 9) ||
		 !strncmp(verb, "Deregister", 10) || !strncmp(verb, "Remove", 6) ||
		 !strncmp(verb, "Stop", 4) || !strncmp(verb, "Retire", 6) ||
		 !strncmp(verb, "Schedule", 8))
		ap->vclass = C_DELETE;
	else
		ap->vclass = C_MODIFY;

	kebab(sing, t, sizeof t);
	ap->noun = arena_cstr(g, t);
	kebab(ap->action, t, sizeof t);
	snprintf(buf, sizeof buf, "%s.%s", ap->svc->cli, t);
	ap->cmd = arena_cstr(g, buf);

	const char *key = ap->svc->key;
	if (key[0] == '*') {
		lower_camel(sing, t, sizeof t);
		snprintf(buf, sizeof buf, "%s%s", t, key + 1);
	} else {
		snprintf(buf, sizeof buf, "%s", key);
	}
	ap->key = arena_cstr(g, buf);

	/* id prefix: a few well-known ones, else the noun's initials */
	static const char *const known[][2] = {
		{"Instance", "i"},      {"Volume", "vol"},         {"Snapshot", "snap"},
		{"SecurityGroup", "sg"}, {"Subnet", "subnet"},      {"Vpc", "vpc"},
		{"Image", "ami"},       {"NetworkInterface", "eni"}, {"Address", "eipalloc"},
		{"LaunchTemplate", "lt"}, {"KeyPair", "key"},       {"RouteTable", "rtb"}};
	ap->prefix[0] = '\0';
	for (size_t i = 0; i < TS_ARRAY_LEN(known); i++)
		if (strstr(sing, known[i][0]))
			snprintf(ap->prefix, sizeof ap->prefix, "%s", known[i][1]);
	if (!ap->prefix[0]) {
		size_t o = 0;
		for (size_t i = 0; sing[i] && o + 1 < sizeof ap->prefix && o < 3; i++)
			if (is_up(sing[i]))
				ap->prefix[o++] = (char)(sing[i] - 'A' + 'a');
		ap->prefix[o] = '\0';
		if (!o)
			snprintf(ap->prefix, sizeof ap->prefix, "r");
	}

	/* request parameters around the resource value */
	const char *team = teams[rng_below(r, TS_ARRAY_LEN(teams))];
	const char *env = envs[rng_below(r, TS_ARRAY_LEN(envs))];
	int ec2 = strcmp(ap->svc->iam, "ec2") == 0;
	snprintf(buf, sizeof buf, "{\"%s\":\"", ap->key.p);
	ap->params1 = arena_cstr(g, buf);
	switch (ap->vclass) {
	case C_LIST:
		switch (rng_below(r, 4)) {
		case 0:
			snprintf(buf, sizeof buf, "null");
			break;
		case 1:
			snprintf(buf, sizeof buf, "{\"maxResults\":%u",
				 rng_below(r, 2) ? 100u : 1000u);
			if (ec2) {
				lower_camel(noun, t, sizeof t);
				snprintf(buf, sizeof buf, "{\"%sSet\":{},\"filterSet\":{}}", t);
			} else {
				size_t l = strlen(buf);
				snprintf(buf + l, sizeof buf - l, "}");
			}
			break;
		case 2:
			snprintf(buf, sizeof buf,
				 "{\"filters\":[{\"name\":\"tag:team\",\"values\":[\"%s\"]}]}", team);
			break;
		default:
			snprintf(buf, sizeof buf, "{\"maxItems\":%u,\"includeShared\":false}",
				 50u + 50u * rng_below(r, 4));
			break;
		}
		ap->params1 = arena_cstr(g, buf);
		ap->params2 = arena_cstr(g, "");
		break;
	case C_CREATE:
		if (ec2)
			snprintf(buf, sizeof buf,
				 "\",\"tagSpecificationSet\":{\"items\":[{\"resourceType\":\"%s\","
				 "\"tags\":[{\"key\":\"team\",\"value\":\"%s\"}]}]}}",
				 ap->noun.p, team);
		else
			snprintf(buf, sizeof buf,
				 "\",\"tags\":[{\"key\":\"team\",\"value\":\"%s\"},{\"key\":\"env\","
				 "\"value\":\"%s\"}]}",
				 team, env);
		ap->params2 = arena_cstr(g, buf);
		break;
	case C_MODIFY:
		switch (rng_below(r, 4)) {
		case 0:
			snprintf(buf, sizeof buf, "\",\"description\":\"updated by %s automation\"}",
				 team);
			break;
		case 1:
			snprintf(buf, sizeof buf, "\",\"enabled\":%s}",
				 rng_below(r, 2) ? "true" : "false");
			break;
		case 2:
			snprintf(buf, sizeof buf, "\",\"desiredCount\":%u}", 1 + rng_below(r, 20));
			break;
		default:
			snprintf(buf, sizeof buf,
				 "\",\"tags\":[{\"key\":\"cost-center\",\"value\":\"cc-%04u\"}]}",
				 rng_below(r, 10000));
			break;
		}
		ap->params2 = arena_cstr(g, buf);
		ap->modify_resp = (int)rng_below(r, 2);
		break;
	default:
		ap->params2 = arena_cstr(g, "\"}");
		break;
	}
	if (ap->vclass == C_LIST && !strcmp(ap->svc->iam, "sts"))
		ap->params1 = arena_cstr(g, "null");
	if (!strcmp(ap->name, "AssumeRole") || !strcmp(ap->name, "AssumeRoleWithWebIdentity") ||
	    !strcmp(ap->name, "AssumeRoleWithSAML")) {
		ap->vclass = C_GET;
		snprintf(buf, sizeof buf, "\",\"roleSessionName\":\"%s-session\","
			 "\"durationSeconds\":3600}", words[rng_below(r, TS_ARRAY_LEN(words))]);
		ap->params1 = arena_cstr(g, "{\"roleArn\":\"");
		ap->params2 = arena_cstr(g, buf);
	}

	/* daily and weekly curve */
	ap->night = 1.0 / rng_logunif(r, 1.2, 8.0);
	ap->peak = rng_range(r, 14.0, 16.0);
	ap->norm = 2.0 / (1.0 + ap->night);
	ap->weekend = rng_range(r, 0.4, 0.7);
}

static int16_t code_id(struct gen *g, const char *s, size_t n)
{
	for (int i = 0; i < g->ncodes; i++)
		if (strlen(g->codes[i]) == n && !memcmp(g->codes[i], s, n))
			return (int16_t)i;
	if (g->ncodes >= (int)TS_ARRAY_LEN(g->codes)) {
		fprintf(stderr, "%s: too many error codes\n", PROG);
		exit(1);
	}
	g->codes[g->ncodes] = arena_str(g, s, n).p;
	return (int16_t)g->ncodes++;
}

/* The service's error codes as ids; returns how many (at most max). */
static int svc_codes(struct gen *g, const struct svc *s, int16_t *out, int max)
{
	int n = 0;
	const char *p = s->codes;
	while (*p && n < max) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		out[n++] = code_id(g, p, len);
		p += len;
		while (*p == ' ')
			p++;
	}
	return n;
}

static void shuffle_int(rng *r, int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rng_below(r, (uint32_t)i + 1);
		int t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* Picks the --apis APIs, half read-only and half write, in Zipf rank order. */
static int build_apis(struct gen *g)
{
	struct cat {
		const struct svc *svc;
		char name[64];
	} *cat = NULL;
	int ncat = 0, acat = 0;
	for (size_t s = 0; s < TS_ARRAY_LEN(svc_table); s++) {
		const char *p = svc_table[s].apis;
		while (*p) {
			const char *e = strchr(p, ' ');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			if (ncat == acat) {
				acat = acat ? acat * 2 : 256;
				cat = xrealloc(cat, (size_t)acat * sizeof *cat);
			}
			cat[ncat].svc = &svc_table[s];
			snprintf(cat[ncat].name, sizeof cat[ncat].name, "%.*s", (int)len, p);
			ncat++;
			p += len;
			while (*p == ' ')
				p++;
		}
	}
	if (g->o.napis > ncat) {
		fprintf(stderr, "%s: --apis %d: the catalog has %d APIs\n", PROG, g->o.napis, ncat);
		free(cat);
		return -1;
	}
	int *reads = xcalloc((size_t)ncat, sizeof *reads), *writes = xcalloc((size_t)ncat,
									     sizeof *writes);
	int nr = 0, nw = 0;
	for (int i = 0; i < ncat; i++) {
		if (is_read_name(cat[i].name))
			reads[nr++] = i;
		else
			writes[nw++] = i;
	}
	rng r;
	rng_init(&r, g->o.seed, PU_MODEL, 0, 0);
	shuffle_int(&r, reads, nr);
	shuffle_int(&r, writes, nw);
	int want_r = g->o.napis / 2, want_w = g->o.napis - want_r;
	if (want_r > nr) {
		want_w += want_r - nr;
		want_r = nr;
	}
	if (want_w > nw) {
		want_r += want_w - nw;
		want_w = nw;
	}
	int n = g->o.napis;
	int *pick = xcalloc((size_t)n, sizeof *pick);
	for (int i = 0; i < want_r; i++)
		pick[i] = reads[i];
	for (int i = 0; i < want_w; i++)
		pick[want_r + i] = writes[i];
	shuffle_int(&r, pick, n);
	/* at least two write APIs among the four busiest, so drops can happen */
	int top = n < 4 ? n : 4, wtop = 0;
	for (int i = 0; i < top; i++)
		wtop += !is_read_name(cat[pick[i]].name);
	for (int i = top; i < n && wtop < 2 && wtop < top; i++) {
		if (is_read_name(cat[pick[i]].name))
			continue;
		for (int j = 0; j < top; j++) {
			if (is_read_name(cat[pick[j]].name)) {
				int t = pick[j];
				pick[j] = pick[i];
				pick[i] = t;
				wtop++;
				break;
			}
		}
	}
	g->napis = n;
	g->apis = xcalloc((size_t)n, sizeof *g->apis);
	int nrare = n >= 4 ? (n + 10) / 20 : 0;
	if (n >= 4 && nrare < 1)
		nrare = 1;
	/* rare APIs: from the quieter half */
	for (int i = 0; i < nrare; i++) {
		int j = n / 2 + (int)rng_below(&r, (uint32_t)(n - n / 2));
		while (g->apis[j].rare)
			j = j + 1 < n ? j + 1 : n / 2;
		g->apis[j].rare = 1;
	}
	double sum = 0;
	int rank = 0;
	for (int i = 0; i < n; i++) {
		struct api *ap = &g->apis[i];
		ap->svc = cat[pick[i]].svc;
		snprintf(ap->name, sizeof ap->name, "%s", cat[pick[i]].name);
		describe_api(g, ap, &r);
		if (!ap->rare) {
			ap->share = pow(++rank, -1.1);
			sum += ap->share;
		}
	}
	for (int i = 0; i < n; i++)
		g->apis[i].share /= sum;
	free(pick);
	free(reads);
	free(writes);
	free(cat);
	return 0;
}

/* Expands %h %i %d %x in a name template. */
static void expand(const char *tmpl, char *out, size_t n, rng *r)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 40 < n; p++) {
		if (*p != '%' || !p[1]) {
			out[o++] = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'h':
			rand_chars(r, out + o, 16, "0123456789abcdef");
			o += 16;
			break;
		case 'i':
			memcpy(out + o, "i-0", 3);
			rand_chars(r, out + o + 3, 16, "0123456789abcdef");
			o += 19;
			break;
		case 'd':
			out[o] = '1';
			rand_chars(r, out + o + 1, 9, "0123456789");
			o += 10;
			break;
		case 'x':
			rand_chars(r, out + o, 32, "0123456789abcdef");
			o += 32;
			break;
		default:
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void random_ip(rng *r, char *out, size_t n)
{
	static const unsigned first[] = {3,   13,  18,  34,  35,  44,  52,  54,  63,  71,
					 73,  81,  84,  89,  91,  98,  104, 108, 136, 142,
					 146, 151, 162, 176, 185, 188, 194, 203, 212, 217};
	/* one draw per statement: argument evaluation order is unspecified */
	unsigned a = first[rng_below(r, TS_ARRAY_LEN(first))];
	unsigned b = rng_below(r, 256);
	unsigned c = rng_below(r, 256);
	unsigned d = 1 + rng_below(r, 254);
	snprintf(out, n, "%u.%u.%u.%u", a, b, c, d);
}

/* Builds a principal of account ac; its strings go to the arena. */
static void make_principal(struct gen *g, struct principal *pr, const char *acct, int type,
			   const char *name_t, const char *session_t, int agent,
			   const char *invoked, rng *r)
{
	char name[128], sess[128], pid[24], key[24], ip[32], b1[2048], b2[256], arn[320];
	expand(name_t, name, sizeof name, r);
	expand(session_t ? session_t : "", sess, sizeof sess, r);
	rand_chars(r, pid, 17, IDCHARS);
	rand_chars(r, key, 16, IDCHARS);
	random_ip(r, ip, sizeof ip);
	memset(pr, 0, sizeof *pr);
	pr->type = type;
	pr->agent = agent;
	pr->h = rng_next(r);
	pr->tls12 = agent == AG_JAVA && (pr->h & 1);
	if (type == PT_SERVICE) {
		snprintf(b1, sizeof b1, "{\"type\":\"AWSService\",\"invokedBy\":\"%s\"}", invoked);
		pr->ui1 = arena_cstr(g, b1);
		pr->arn = arena_cstr(g, "");
		pr->who = pr->ip = arena_cstr(g, invoked);
		return;
	}
	if (type == PT_USER) {
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:user/%s", acct, name);
		int n = snprintf(b1, sizeof b1,
				 "{\"type\":\"IAMUser\",\"principalId\":\"AIDA%s\",\"arn\":\"%s\","
				 "\"accountId\":\"%s\",\"accessKeyId\":\"%s%s\",\"userName\":\"%s\"",
				 pid, arn, acct, session_t ? "ASIA" : "AKIA", key, name);
		if (session_t) {
			snprintf(b1 + n, sizeof b1 - (size_t)n,
				 ",\"sessionContext\":{\"sessionIssuer\":{},\"webIdFederationData\":{},"
				 "\"attributes\":{\"creationDate\":\"");
			snprintf(b2, sizeof b2, "\",\"mfaAuthenticated\":\"true\"}}}");
			pr->session = 1;
		} else {
			snprintf(b1 + n, sizeof b1 - (size_t)n, "}");
		}
	} else {
		char issuer[256];
		int sso = strncmp(name, "AWSReservedSSO_", 15) == 0;
		int slr = strncmp(name, "AWSServiceRoleFor", 17) == 0;
		snprintf(issuer, sizeof issuer, "arn:aws:iam::%s:role/%s%s", acct,
			 sso ? "aws-reserved/sso.amazonaws.com/" : slr ? "aws-service-role/" : "",
			 name);
		snprintf(arn, sizeof arn, "arn:aws:sts::%s:assumed-role/%s/%s", acct, name, sess);
		snprintf(b1, sizeof b1,
			 "{\"type\":\"AssumedRole\",\"principalId\":\"AROA%s:%s\",\"arn\":\"%s\","
			 "\"accountId\":\"%s\",\"accessKeyId\":\"ASIA%s\",\"sessionContext\":{"
			 "\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"AROA%s\","
			 "\"arn\":\"%s\",\"accountId\":\"%s\",\"userName\":\"%s\"},"
			 "\"webIdFederationData\":{},\"attributes\":{\"creationDate\":\"",
			 pid, sess, arn, acct, key, pid, issuer, acct, name);
		if (invoked)
			snprintf(b2, sizeof b2,
				 "\",\"mfaAuthenticated\":\"false\"}},\"invokedBy\":\"%s\"}", invoked);
		else
			snprintf(b2, sizeof b2, "\",\"mfaAuthenticated\":\"%s\"}}}",
				 sso ? "true" : "false");
		pr->session = 1;
	}
	pr->ui1 = arena_cstr(g, b1);
	if (pr->session)
		pr->ui2 = arena_cstr(g, b2);
	pr->arn = pr->who = arena_cstr(g, arn);
	pr->ip = arena_cstr(g, invoked ? invoked : ip);
}

/* The user agent a principal's client sends for an API; variant 1 is the
 * same team on another machine (other versions). */
static ts_str make_agent(struct gen *g, const struct principal *pr, const struct api *ap,
			 int variant)
{
	char b[512];
	uint64_t h = mix64(pr->h + (uint64_t)variant * 0x9e3779b97f4a7c15ull);
	unsigned a = (unsigned)(h & 0xffff), c = (unsigned)((h >> 16) & 0xffff),
		 d = (unsigned)((h >> 32) & 0xffff);
	switch (pr->agent) {
	case AG_CLI:
		if (h >> 63)
			snprintf(b, sizeof b,
				 "aws-cli/2.%u.%u Python/3.11.%u Darwin/23.%u.0 exe/x86_64 "
				 "prompt/off command/%s",
				 13 + a % 5, c % 40, d % 9, a % 6, ap->cmd.p);
		else
			snprintf(b, sizeof b,
				 "aws-cli/2.%u.%u Python/3.11.%u Linux/6.%u.0-10%02u-aws "
				 "exe/x86_64.ubuntu.22 prompt/off command/%s",
				 13 + a % 5, c % 40, d % 9, 1 + a % 5, c % 60, ap->cmd.p);
		break;
	case AG_BOTO:
		snprintf(b, sizeof b,
			 "Boto3/1.34.%u md/Botocore#1.34.%u ua/2.0 os/linux#5.10.%u-%u.amzn2.x86_64 "
			 "md/arch#x86_64 lang/python#3.11.%u md/pyimpl#CPython cfg/retry-mode#legacy "
			 "Botocore/1.34.%u",
			 a % 80, a % 80, 180 + c % 40, 150 + d % 60, d % 9, a % 80);
		break;
	case AG_CONSOLE:
		snprintf(b, sizeof b, "console.amazonaws.com");
		break;
	case AG_TF:
		snprintf(b, sizeof b,
			 "APN/1.0 HashiCorp/1.0 Terraform/1.6.%u (+https://www.terraform.io) "
			 "terraform-provider-aws/5.%u.0 "
			 "(+https://registry.terraform.io/providers/hashicorp/aws) "
			 "aws-sdk-go-v2/1.24.%u ua/2.0 os/linux lang/go#1.21.%u md/GOOS#linux "
			 "md/GOARCH#amd64 api/%s#1.%u.0",
			 a % 7, 20 + c % 15, d % 4, a % 6, ap->svc->cli, 20 + c % 100);
		break;
	case AG_GO:
		if (h >> 63)
			snprintf(b, sizeof b, "aws-sdk-go/1.49.%u (go1.21.%u; linux; amd64)", a % 25,
				 c % 6);
		else
			snprintf(b, sizeof b,
				 "aws-sdk-go-v2/1.24.%u os/linux lang/go#1.21.%u md/GOOS#linux "
				 "md/GOARCH#amd64 api/%s#1.%u.%u",
				 a % 4, c % 6, ap->svc->cli, 10 + d % 90, a % 5);
		break;
	case AG_JAVA:
		snprintf(b, sizeof b,
			 "aws-sdk-java/2.21.%u Linux/5.10.%u-%u.amzn2.x86_64 "
			 "OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. "
			 "md/internal io/sync http/Apache cfg/retry-mode/legacy",
			 a % 46, 190 + c % 20, 180 + d % 20);
		break;
	case AG_JS:
		snprintf(b, sizeof b,
			 "aws-sdk-js/3.%u.0 ua/2.0 os/linux#5.10.%u lang/js md/nodejs#20.%u.0 "
			 "api/%s#3.%u.0 exec-env/AWS_Lambda_nodejs20.x",
			 450 + a % 40, 200 + c % 20, d % 11, ap->svc->cli, 450 + a % 40);
		break;
	case AG_SVC:
		return pr->ip;
	default:
		snprintf(b, sizeof b, "%s", odd_agents[h % TS_ARRAY_LEN(odd_agents)]);
		break;
	}
	return arena_cstr(g, b);
}

/* --weekends varied: gives each API a weekly class and a weekend level per
 * calendar week, from a random stream of its own (PU_WEEK), so no other draw
 * changes. Machine APIs (40%) keep 0.9-1.05 of their weekday rate, people's
 * APIs (40%) about a sixth (0.12-0.22), the rest 0.3-0.8; each week's level
 * is that times 0.9-1.1, so one weekend is not exactly the next. */
static void plan_weekends(struct gen *g)
{
	if (!g->o.weekends)
		return;
	g->nweeks = (int)((g->start_day + 3 + g->o.days - 1) / 7 - (g->start_day + 3) / 7) + 1;
	for (int a = 0; a < g->napis; a++) {
		struct api *ap = &g->apis[a];
		rng r;
		rng_init(&r, g->o.seed, PU_WEEK, (uint64_t)a, 0);
		double u = rng_unif(&r), lvl;
		if (u < 0.4) {
			ap->wclass = W_MACHINE;
			lvl = rng_range(&r, 0.9, 1.05);
		} else if (u < 0.8) {
			ap->wclass = W_PEOPLE;
			lvl = rng_range(&r, 0.12, 0.22);
		} else {
			ap->wclass = W_MIXED;
			lvl = rng_range(&r, 0.3, 0.8);
		}
		ap->weekend = lvl;
		ap->wk = xcalloc((size_t)g->nweeks, sizeof *ap->wk);
		for (int w = 0; w < g->nweeks; w++)
			ap->wk[w] = lvl * rng_range(&r, 0.9, 1.1);
	}
}

static void build_accounts(struct gen *g)
{
	g->accts = xcalloc((size_t)g->o.naccounts, sizeof *g->accts);
	for (int i = 0; i < g->o.naccounts; i++) {
		struct account *ac = &g->accts[i];
		rng r;
		for (uint64_t attempt = 0;; attempt++) {
			rng_init(&r, g->o.seed, PU_ACCOUNT, (uint64_t)i, attempt);
			ac->id[0] = (char)('1' + rng_below(&r, 9));
			rand_chars(&r, ac->id + 1, 11, "0123456789");
			int dup = 0;
			for (int j = 0; j < i; j++)
				dup |= strcmp(g->accts[j].id, ac->id) == 0;
			if (!dup)
				break;
		}
		rand_chars(&r, ac->fingerprint, 32, "0123456789abcdef");
		for (int k = 0; k < NPOOL; k++)
			make_principal(g, &ac->pool[k], ac->id, ptmpls[k].type, ptmpls[k].name,
				       ptmpls[k].session, ptmpls[k].agent, ptmpls[k].invoked, &r);
	}
}

/* Resource values one API of one partition touches. */
static void make_resources(struct gen *g, struct papi *pa, const struct api *ap,
			   const struct account *ac, const char *region, rng *r)
{
	char b[256], hx[40];
	for (int i = 0; i < NRES; i++) {
		const char *team = teams[rng_below(r, TS_ARRAY_LEN(teams))];
		const char *word = words[rng_below(r, TS_ARRAY_LEN(words))];
		const char *env = envs[rng_below(r, TS_ARRAY_LEN(envs))];
		switch (ap->svc->vfmt) {
		case V_HEX:
			rand_chars(r, hx, 17, "0123456789abcdef");
			snprintf(b, sizeof b, "%s-%s", ap->prefix, hx);
			break;
		case V_URL:
			snprintf(b, sizeof b, "https://sqs.%s.amazonaws.com/%s/%s-%s-%s", region,
				 ac->id, team, word, env);
			break;
		case V_UUID: {
			rng t = *r;
			char *w = w_uuid(b, &t);
			*w = '\0';
			rng_next(r);
			rng_next(r);
			break;
		}
		case V_ROLEARN:
			snprintf(b, sizeof b, "arn:aws:iam::%s:role/%s-%s-role", ac->id, team, word);
			break;
		case V_ARN:
			if (!strcmp(ap->svc->iam, "elasticloadbalancing")) {
				rand_chars(r, hx, 16, "0123456789abcdef");
				snprintf(b, sizeof b, "arn:aws:elasticloadbalancing:%s:%s:%s/%s-%s/%s",
					 region, ac->id, ap->noun.p, team, word, hx);
			} else {
				snprintf(b, sizeof b, "arn:aws:%s:%s:%s:%s-%s-%s", ap->svc->iam,
					 region, ac->id, team, word, env);
			}
			break;
		case V_PATH:
			snprintf(b, sizeof b, "/%s/%s/%s", env, team, word);
			break;
		case V_LOGGROUP:
			snprintf(b, sizeof b, "/aws/lambda/%s-%s-%s", team, word, env);
			break;
		case V_ZONE:
			rand_chars(r, hx, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
			snprintf(b, sizeof b, "Z%s", hx);
			break;
		case V_ALNUM:
			rand_chars(r, b, 10, "abcdefghijklmnopqrstuvwxyz0123456789");
			break;
		case V_HEX32:
			rand_chars(r, b, 32, "0123456789abcdef");
			break;
		default:
			snprintf(b, sizeof b, "%s-%s-%s", team, word, env);
			break;
		}
		pa->res[i] = arena_cstr(g, b);
	}
}

static int count_for(int napis, double frac, int min_apis)
{
	if (napis < min_apis)
		return 0;
	int n = (int)(frac * napis + 0.5);
	return n < 1 ? 1 : n;
}

/* Picks an API of the partition with no role yet, preferring write APIs;
 * -1 if none. The busiest APIs (the first in rank order) are left alone:
 * they are the only candidates for drops. */
static int pick_free(const struct gen *g, const struct part *pt, rng *r, int want_write)
{
	int skip = g->napis >= 10 ? 4 : 0;
	for (int pass = 0; pass < 2; pass++) {
		int n = 0;
		for (int a = skip; a < g->napis; a++)
			n += !g->apis[a].rare && pt->api[a].role == R_NORMAL &&
			     (pass || !want_write || !g->apis[a].read_only);
		if (!n)
			continue;
		int k = (int)rng_below(r, (uint32_t)n);
		for (int a = skip; a < g->napis; a++)
			if (!g->apis[a].rare && pt->api[a].role == R_NORMAL &&
			    (pass || !want_write || !g->apis[a].read_only) && k-- == 0)
				return a;
	}
	return -1;
}

static void build_parts(struct gen *g)
{
	g->nparts = g->o.naccounts * g->o.nregions;
	g->parts = xcalloc((size_t)g->nparts, sizeof *g->parts);
	double wsum = 0;
	for (int p = 0; p < g->nparts; p++) {
		rng r;
		rng_init(&r, g->o.seed, PU_PART, (uint64_t)p, 0);
		g->parts[p].acct = p / g->o.nregions;
		g->parts[p].region = p % g->o.nregions;
		g->parts[p].weight = g->nparts > 1 ? exp(0.5 * rng_normal(&r)) : 1.0;
		wsum += g->parts[p].weight;
	}
	for (int p = 0; p < g->nparts; p++) {
		struct part *pt = &g->parts[p];
		const struct account *ac = &g->accts[pt->acct];
		const char *region = regions[pt->region];
		pt->weight /= wsum;
		pt->api = xcalloc((size_t)g->napis, sizeof *pt->api);
		rng r;
		rng_init(&r, g->o.seed, PU_PART, (uint64_t)p, 1);
		for (int a = 0; a < g->napis; a++) {
			const struct api *ap = &g->apis[a];
			struct papi *pa = &pt->api[a];
			pa->anom = -1;
			pa->chronic_code = -1;
			if (ap->rare) {
				pa->rare_per_day = 2 + (int)rng_below(&r, 7);
				pa->base = pa->rare_per_day / 1440.0;
			} else {
				pa->base = g->o.rate * pt->weight * ap->share *
					   exp(0.4 * rng_normal(&r) - 0.08);
			}
			pa->nprin = 2 + (int)rng_below(&r, MAX_PRIN - 1);
			double sum = 0;
			for (int i = 0; i < pa->nprin; i++) {
				const struct principal *pr;
				int dup;
				do {
					pr = &ac->pool[rng_below(&r, NPOOL)];
					if (pr->agent == AG_SVC && rng_unif(&r) < 0.7)
						dup = 1;
					else
						for (int j = dup = 0; j < i; j++)
							dup |= pa->prin[j] == pr;
				} while (dup);
				pa->prin[i] = pr;
				sum += pow(i + 1, -1.2);
				pa->pcum[i] = sum;
			}
			for (int i = 0; i < pa->nprin; i++) {
				pa->pcum[i] /= sum;
				pa->ua[i][0] = make_agent(g, pa->prin[i], ap, 0);
				pa->ua[i][1] = make_agent(g, pa->prin[i], ap, 1);
			}
			pa->pcum[pa->nprin - 1] = 1.0;
			int16_t codes[8];
			int nc = svc_codes(g, ap->svc, codes, 8);
			pa->err_rate = rng_unif(&r) < 0.2 ? 0 : rng_range(&r, 0, 0.02);
			pa->nerr = 1 + (int)rng_below(&r, 3);
			if (pa->nerr > nc)
				pa->nerr = nc;
			sum = 0;
			for (int i = 0; i < pa->nerr; i++) {
				int16_t c;
				int dup;
				do {
					c = codes[rng_below(&r, (uint32_t)nc)];
					dup = 0;
					for (int j = 0; j < i; j++)
						dup |= pa->err[j] == c;
				} while (dup);
				pa->err[i] = c;
				sum += rng_range(&r, 0.2, 1.0);
				pa->ecum[i] = sum;
			}
			for (int i = 0; i < pa->nerr; i++)
				pa->ecum[i] /= sum;
			pa->ecum[pa->nerr - 1] = 1.0;
			make_resources(g, pa, ap, ac, region, &r);
		}
		/* regular, labelled-as-normal behaviour */
		int nh = count_for(g->napis, 0.05, 5), nd = count_for(g->napis, 0.03, 10),
		    nch = count_for(g->napis, 0.05, 5);
		/* an organization: cron jobs in one partition in five, a tenth
		 * as busy (most accounts and Regions are quiet) */
		int scale = g->o.org ? 10 : 1;
		if (g->o.org && rng_unif(&r) >= 0.2)
			nh = nd = 0;
		for (int i = 0; i < nh + nd; i++) {
			int a = pick_free(g, pt, &r, 1);
			if (a < 0)
				break;
			struct papi *pa = &pt->api[a];
			char name[128], sess[64];
			const char *team = teams[rng_below(&r, TS_ARRAY_LEN(teams))];
			if (i < nh) {
				pa->role = R_HOURLY;
				pa->cron_min = (int)rng_below(&r, 60);
				pa->cron_calls = (20 + (int)rng_below(&r, 181)) / scale;
				snprintf(name, sizeof name, "%s-%s-hourly", team, g->apis[a].svc->cli);
			} else {
				pa->role = R_DAILY;
				pa->daily_min = (int)rng_below(&r, 1440);
				pa->daily_len = 1 + (int)rng_below(&r, 3);
				pa->daily_calls = (int)rng_logunif(&r, 100, 1000) / scale;
				snprintf(name, sizeof name, "%s-nightly-%s", team, g->apis[a].svc->cli);
			}
			snprintf(sess, sizeof sess, "cron-%%d");
			struct principal *pr = xcalloc(1, sizeof *pr);
			make_principal(g, pr, ac->id, PT_ROLE, name, sess,
				       rng_below(&r, 2) ? AG_BOTO : AG_JS, NULL, &r);
			pa->prin[SPECIAL] = pr;
			pa->ua[SPECIAL][0] = pa->ua[SPECIAL][1] = make_agent(g, pr, &g->apis[a], 0);
		}
		for (int i = 0; i < nch; i++) {
			int a = pick_free(g, pt, &r, 0);
			if (a < 0)
				break;
			struct papi *pa = &pt->api[a];
			pa->role = R_CHRONIC;
			pa->chronic_frac = rng_range(&r, 0.10, 0.40);
			int16_t codes[8];
			int nc = svc_codes(g, g->apis[a].svc, codes, 8);
			pa->chronic_code = codes[rng_below(&r, (uint32_t)nc)];
		}
	}
}

/* Expected calls per minute of API a in partition pt at minute m (since the
 * corpus start), without cron bursts or anomalies. */
static double api_rate(const struct gen *g, const struct part *pt, int a, int64_t m)
{
	const struct api *ap = &g->apis[a];
	double h = (double)(m % 1440) / 60.0 + 1.0 / 120.0;
	double c = 0.5 * (1.0 + cos(2.0 * M_PI * (h - ap->peak) / 24.0));
	double f = (ap->night + (1.0 - ap->night) * c) * ap->norm;
	int64_t wd = (g->start_day + m / 1440 + 3) % 7; /* 0 = Monday */
	if (wd >= 5) {
		if (ap->wk)
			f *= ap->wk[(g->start_day + 3 + m / 1440) / 7 - (g->start_day + 3) / 7];
		else
			f *= ap->weekend;
	}
	return pt->api[a].base * f;
}

/* ------------------------------------------------------- anomaly planning */

static int cond_ok(int kind, double lam, double f, int subtle)
{
	double extra = (f - 1) * lam;
	switch (kind) {
	case K_SPIKE:
		return (lam >= 0.2 || extra >= 10) && extra >= 1 && extra >= 3 * sqrt(lam);
	case K_DROP:
		return lam >= 10;
	case K_ERROR: /* subtle: at least one failing call a minute */
		return lam >= 5 && (!subtle || f * lam >= 1);
	default: /* ramp: f is the peak factor */
		return lam >= 0.3 && extra >= 5 && extra >= 4 * sqrt(lam);
	}
}

static int cmp_anom(const void *a, const void *b)
{
	const struct anomaly *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->part != y->part)
		return x->part - y->part;
	return x->api - y->api;
}

/* Sort the anomalies by start and number them; papi.anom follows. */
static void sort_anomalies(struct gen *g)
{
	qsort(g->anoms, (size_t)g->nanoms, sizeof *g->anoms, cmp_anom);
	for (int i = 0; i < g->nanoms; i++) {
		g->anoms[i].id = i + 1;
		g->parts[g->anoms[i].part].api[g->anoms[i].api].anom = i;
	}
}

static void plan_anomalies(struct gen *g)
{
	int want = g->o.nanom;
	g->anoms = xcalloc((size_t)(want > 0 ? want : 1), sizeof *g->anoms);
	int kinds[K_COUNT], nk = 0;
	for (int k = 0; k < K_COUNT; k++)
		if (g->o.kinds & (1u << k))
			kinds[nk++] = k;
	int64_t lo = (int64_t)g->o.after * 1440, hi = g->total_min - 30;
	if (want <= 0 || nk == 0 || hi - lo < 60) {
		if (want > 0)
			fprintf(stderr, "%s: warning: no room for anomalies after day %d\n", PROG,
				g->o.after);
		return;
	}
	rng r;
	rng_init(&r, g->o.seed, PU_PLAN, 0, 0);
	int koff = (int)rng_below(&r, (uint32_t)nk);
	/* kinds in turn; the most constrained are placed first, so busy
	 * series are still free for drops (the labels are sorted later) */
	static const int order[K_COUNT] = {K_DROP, K_ERROR, K_RAMP, K_SPIKE};
	int *plan = xcalloc((size_t)want, sizeof *plan), np = 0;
	for (int o = 0; o < K_COUNT; o++)
		for (int i = 0; i < want; i++)
			if (kinds[(i + koff) % nk] == order[o])
				plan[np++] = order[o];
	int64_t ndays = (hi - lo + 1439) / 1440;
	const int sub = g->o.subtle;
	int *cand = xcalloc((size_t)g->nparts * (size_t)g->napis, sizeof *cand);
	for (int i = 0; i < want; i++) {
		int placed = 0;
		for (int attempt = 0; attempt < 600 && !placed; attempt++) {
			int kind = plan[i];
			if (attempt >= 150) { /* fall back to the other kinds */
				int k0 = 0;
				while (kinds[k0] != plan[i])
					k0++;
				kind = kinds[(k0 + attempt / 150) % nk];
			}
			int dur;
			double f = 0;
			switch (kind) {
			case K_SPIKE: /* --subtle: x1.8-x4 */
				dur = 5 + (int)rng_below(&r, 56);
				f = sub ? rng_logunif(&r, 1.8, 4) : rng_logunif(&r, 3, 100);
				break;
			case K_DROP: /* --subtle: to 10-40% of the calls, not to none */
				dur = 30 + (int)rng_below(&r, 91);
				f = sub ? rng_range(&r, 0.1, 0.4) : 0;
				break;
			case K_ERROR: /* --subtle: 5-25% of the calls */
				dur = 10 + (int)rng_below(&r, 51);
				f = sub ? rng_range(&r, 0.05, 0.25) : rng_range(&r, 0.2, 0.9);
				break;
			default:
				dur = 30 + (int)rng_below(&r, 61);
				f = rng_range(&r, 5, 20);
				break;
			}
			/* candidates: free series that pass at the busiest minute of a
			 * weekday (few series are busy enough for a drop) */
			int ncand = 0;
			for (int q = 0; q < g->nparts * g->napis; q++) {
				const struct api *cap = &g->apis[q % g->napis];
				const struct papi *cpa = &g->parts[q / g->napis].api[q % g->napis];
				if (!cap->rare && cpa->role == R_NORMAL && cpa->anom < 0 &&
				    (kind == K_ERROR || !cap->read_only) &&
				    cond_ok(kind, cpa->base * cap->norm, f, sub))
					cand[ncand++] = q;
			}
			if (!ncand)
				continue;
			int q = cand[rng_below(&r, (uint32_t)ncand)];
			int p = q / g->napis, a = q % g->napis;
			const struct api *ap = &g->apis[a];
			struct papi *pa = &g->parts[p].api[a];
			int64_t d0 = lo + (int64_t)rng_below(&r, (uint32_t)ndays) * 1440;
			d0 -= d0 % 1440;
			if (d0 < lo)
				d0 = lo;
			int64_t s_end = d0 - d0 % 1440 + 1440;
			if (s_end > hi - dur)
				s_end = hi - dur;
			/* count the starts whose whole window meets the condition */
			int64_t run = 0, nvalid = 0;
			for (int64_t m = d0; m < s_end + dur; m++) {
				run = cond_ok(kind, api_rate(g, &g->parts[p], a, m), f, sub) ? run + 1 : 0;
				nvalid += run >= dur && m - dur + 1 < s_end;
			}
			if (!nvalid)
				continue;
			int64_t pick = (int64_t)rng_below(&r, (uint32_t)nvalid), s = -1;
			run = 0;
			for (int64_t m = d0; m < s_end + dur && s < 0; m++) {
				run = cond_ok(kind, api_rate(g, &g->parts[p], a, m), f, sub) ? run + 1 : 0;
				if (run >= dur && m - dur + 1 < s_end && pick-- == 0)
					s = m - dur + 1;
			}
			struct anomaly *an = &g->anoms[g->nanoms];
			memset(an, 0, sizeof *an);
			an->kind = kind;
			an->part = p;
			an->api = a;
			an->begin = an->start = s;
			an->end = s + dur;
			an->factor = f;
			an->code = -1;
			an->base_rate = api_rate(g, &g->parts[p], a, s);
			if (kind == K_RAMP) {
				/* multiplier of minute i is 1 + (f-1)(i+1)/dur: labelled
				 * from the first minute above 2 */
				an->start = s + (int64_t)floor(dur / (f - 1));
				if (an->start >= an->end)
					an->start = an->end - 1;
				an->base_rate = api_rate(g, &g->parts[p], a, an->start);
			} else if (kind == K_DROP) {
				an->factor = f; /* the fraction of calls left: 0 but --subtle */
			} else if (kind == K_ERROR) {
				int16_t codes[8];
				int nc = svc_codes(g, ap->svc, codes, 8);
				an->code = rng_unif(&r) < 0.6 ? pa->err[rng_below(&r, (uint32_t)pa->nerr)]
							       : codes[rng_below(&r, (uint32_t)nc)];
				double share = 0, prev = 0;
				for (int j = 0; j < pa->nerr; j++) {
					if (pa->err[j] == an->code)
						share = pa->ecum[j] - prev;
					prev = pa->ecum[j];
				}
				an->base_err = an->base_rate * pa->err_rate * share;
				if (ap->read_only && rng_unif(&r) < 0.5)
					an->extra = rng_range(&r, 0.5, 2.0);
			} else {
				struct principal *pr = xcalloc(1, sizeof *pr);
				char name[32];
				name[0] = 'x';
				name[1] = '-';
				rand_chars(&r, name + 2, 8, "abcdefghijklmnopqrstuvwxyz0123456789");
				make_principal(g, pr, g->accts[g->parts[p].acct].id, PT_USER, name, NULL,
					       AG_ODD, NULL, &r);
				pa->prin[SPECIAL] = pr;
				pa->ua[SPECIAL][0] = pa->ua[SPECIAL][1] = make_agent(g, pr, ap, 0);
			}
			pa->anom = g->nanoms++;
			placed = 1;
		}
	}
	free(cand);
	free(plan);
	if (g->nanoms < want)
		fprintf(stderr, "%s: warning: placed %d of %d anomalies (too few series busy "
			"enough for the chosen kinds)\n", PROG, g->nanoms, want);
	sort_anomalies(g);
}

/* --job-anomalies: on hourly and daily jobs, alternately, 3-8 hourly runs
 * (or one daily run) that do not happen, and one run ten times its size;
 * from a stream of their own, so the rest of the corpus is that of the
 * same options without them. Each label spans its runs, drift included. */
static void plan_job_anomalies(struct gen *g)
{
	int want = g->o.job_anoms;
	if (want <= 0)
		return;
	g->anoms = xrealloc(g->anoms, (size_t)(g->nanoms + want) * sizeof *g->anoms);
	rng r;
	rng_init(&r, g->o.seed, PU_JOBANOM, 0, 0);
	int64_t lo = (int64_t)g->o.after * 1440, hi = g->total_min - 30;
	int dr = g->o.job_drift, placed = 0;
	for (int i = 0; i < want; i++) {
		for (int attempt = 0; attempt < 200; attempt++) {
			int q = (int)rng_below(&r, (uint32_t)(g->nparts * g->napis));
			int p = q / g->napis, a = q % g->napis;
			struct papi *pa = &g->parts[p].api[a];
			if (g->apis[a].rare || pa->anom >= 0 ||
			    (pa->role != R_HOURLY && pa->role != R_DAILY))
				continue;
			int kind = i % 2 ? K_JOBBURST : K_JOBSTOP;
			int64_t day = lo / 1440 + (int64_t)rng_below(&r, (uint32_t)(g->o.days - lo / 1440));
			int64_t b, e;
			double per_min;
			if (pa->role == R_HOURLY) {
				int64_t k = day * 24 + rng_below(&r, 24);
				int runs = kind == K_JOBSTOP ? 3 + (int)rng_below(&r, 6) : 1;
				b = k * 60 + pa->cron_min - dr;
				e = (k + runs - 1) * 60 + pa->cron_min + dr + 1;
				per_min = pa->cron_calls;
			} else {
				b = day * 1440 + pa->daily_min - dr;
				e = b + pa->daily_len + 2 * dr;
				per_min = (double)pa->daily_calls / pa->daily_len;
			}
			if (b < lo || e > hi)
				continue;
			struct anomaly *an = &g->anoms[g->nanoms];
			memset(an, 0, sizeof *an);
			*an = (struct anomaly){.kind = kind, .part = p, .api = a, .begin = b, .start = b,
					       .end = e, .factor = kind == K_JOBSTOP ? 0 : 10,
					       .base_rate = per_min, .code = -1};
			pa->anom = g->nanoms++;
			placed++;
			break;
		}
	}
	if (placed < want)
		fprintf(stderr, "%s: warning: placed %d of %d job anomalies (too few jobs)\n", PROG,
			placed, want);
	sort_anomalies(g);
}

/* ------------------------------------------------------- event generation */

static int ev_push(struct evbuf *b, const struct ev *e)
{
	if (b->n == b->alloc) {
		if (b->alloc >= EV_CAP) {
			fprintf(stderr, "%s: more than %u events in one 5-minute file; lower --rate "
				"or add partitions\n", PROG, EV_CAP);
			return -1;
		}
		b->alloc = b->alloc ? b->alloc * 2 : 4096;
		b->ev = xrealloc(b->ev, b->alloc * sizeof *b->ev);
	}
	b->ev[b->n++] = *e;
	return 0;
}

/* State of one minute's generation, shared by emit() calls. */
struct mctx {
	const struct papi *pa;
	const struct anomaly *an; /* active anomaly of this API, or NULL */
	struct evbuf *cur, *next; /* on-time and late bins */
	int allow_late;
	int64_t m;
	uint64_t seq;
	rng r;
};

/* Adds n events of one API in the current minute; prin -1 draws a regular
 * principal; err_force >= 0 makes every event fail with that code. */
static int emit(struct mctx *c, int a, uint32_t n, int prin, int err_force)
{
	const struct papi *pa = c->pa;
	for (uint32_t i = 0; i < n; i++) {
		struct ev e;
		e.sec = (int32_t)(c->m * 60 + rng_below(&c->r, 60));
		e.key = (int64_t)e.sec * 1000 + rng_below(&c->r, JITTER_MS);
		e.seq = c->seq++;
		e.api = (uint16_t)a;
		if (prin < 0) {
			double u = rng_unif(&c->r);
			int k = 0;
			while (k < pa->nprin - 1 && u > pa->pcum[k])
				k++;
			e.prin = (uint8_t)k;
		} else {
			e.prin = (uint8_t)prin;
		}
		e.uav = rng_unif(&c->r) < 0.08;
		e.err = -1;
		double u = rng_unif(&c->r);
		if (err_force >= 0) {
			e.err = (int16_t)err_force;
		} else if (c->an && c->an->kind == K_ERROR && u < c->an->factor) {
			e.err = c->an->code;
		} else if (pa->role == R_CHRONIC && u < pa->chronic_frac) {
			e.err = pa->chronic_code;
		} else if (u < pa->err_rate) {
			double v = rng_unif(&c->r);
			int k = 0;
			while (k < pa->nerr - 1 && v > pa->ecum[k])
				k++;
			e.err = pa->err[k];
		}
		e.seed = rng_next(&c->r);
		int late = c->allow_late && rng_unif(&c->r) < LATE_FRAC;
		if (ev_push(late ? c->next : c->cur, &e))
			return -1;
	}
	return 0;
}

/* Run k (an hour or a day since the epoch) of the job of API a in
 * partition p: how many minutes it starts late (negative: early) and the
 * factor on its calls, from a stream of its own so that the other draws
 * are those of a corpus without --job-drift and --job-size-var. */
static void job_run(const struct gen *g, int p, int a, int64_t k, int *shift, double *size)
{
	rng r;
	rng_init(&r, g->o.seed, PU_JOB, (uint64_t)p * (uint64_t)g->napis + (uint64_t)a,
		 (uint64_t)k);
	int d = g->o.job_drift;
	*shift = d ? (int)rng_below(&r, (uint32_t)(2 * d + 1)) - d : 0;
	*size = 1 + g->o.job_size_var * (2 * rng_unif(&r) - 1);
}

/* The expected calls of the job of API a of partition p in minute m, with
 * each run drifted and resized (job_run); 0 outside its runs. */
static double job_calls(const struct gen *g, int p, int a, int64_t m)
{
	const struct papi *pa = &g->parts[p].api[a];
	int per = pa->role == R_HOURLY ? 60 : 1440;
	int64_t k0 = m / per;
	double lam = 0;
	for (int64_t k = k0 - 1; k <= k0 + 1; k++) {
		int shift;
		double size;
		job_run(g, p, a, k, &shift, &size);
		if (pa->role == R_HOURLY) {
			if (k * 60 + pa->cron_min + shift == m)
				lam += pa->cron_calls * size;
		} else {
			int64_t at = k * 1440 + pa->daily_min + shift;
			if (m >= at && m < at + pa->daily_len)
				lam += (double)pa->daily_calls / pa->daily_len * size;
		}
	}
	return lam;
}

/* All events of partition p in minute m go to cur, late ones to next. */
static int gen_minute(const struct gen *g, int p, int64_t m, struct evbuf *cur,
		      struct evbuf *next, int allow_late)
{
	const struct part *pt = &g->parts[p];
	struct mctx c = {.cur = cur, .next = next, .allow_late = allow_late, .m = m};
	c.seq = (uint64_t)m << 24;
	rng_init(&c.r, g->o.seed, PU_MINUTE, (uint64_t)p, (uint64_t)m);
	int64_t mod = m % 1440;
	for (int a = 0; a < g->napis; a++) {
		const struct papi *pa = &pt->api[a];
		c.pa = pa;
		c.an = NULL;
		if (pa->anom >= 0) {
			const struct anomaly *an = &g->anoms[pa->anom];
			if (m >= an->begin && m < an->end)
				c.an = an;
		}
		if (c.an && c.an->kind == K_DROP && !(c.an->factor > 0))
			continue;
		double lam = api_rate(g, pt, a, m);
		if (c.an && c.an->kind == K_DROP)
			lam *= c.an->factor;
		if (emit(&c, a, poisson(&c.r, lam), -1, -1))
			return -1;
		if (c.an) {
			const struct anomaly *an = c.an;
			int rc = 0;
			if (an->kind == K_SPIKE) {
				rc = emit(&c, a, poisson(&c.r, (an->factor - 1) * lam), SPECIAL, -1);
			} else if (an->kind == K_RAMP) {
				double mult = 1 + (an->factor - 1) * (double)(m - an->begin + 1) /
							  (double)(an->end - an->begin);
				rc = emit(&c, a, poisson(&c.r, (mult - 1) * lam), 0, -1);
			} else if (an->kind == K_ERROR && an->extra > 0) {
				rc = emit(&c, a, poisson(&c.r, an->extra * lam), 0, an->code);
			}
			if (rc)
				return -1;
		}
		/* a job anomaly: its runs stopped (0) or ten times their size */
		double jf = c.an && c.an->kind >= K_JOBSTOP ? c.an->factor : 1;
		if ((g->o.job_drift || g->o.job_size_var > 0) &&
		    (pa->role == R_HOURLY || pa->role == R_DAILY)) {
			double lam_job = job_calls(g, p, a, m) * jf;
			if (lam_job > 0 && emit(&c, a, poisson(&c.r, lam_job), SPECIAL, -1))
				return -1;
		} else if (pa->role == R_HOURLY && m % 60 == pa->cron_min) {
			if (emit(&c, a, poisson(&c.r, pa->cron_calls * jf), SPECIAL, -1))
				return -1;
		} else if (pa->role == R_DAILY && mod >= pa->daily_min &&
			   mod < pa->daily_min + pa->daily_len) {
			if (emit(&c, a, poisson(&c.r, (double)pa->daily_calls / pa->daily_len * jf),
				 SPECIAL, -1))
				return -1;
		}
	}
	return 0;
}

/* Delivery minute (since the corpus start) of slot k's file, and its name
 * suffix. */
static int64_t slot_delivery(const struct gen *g, int p, int64_t k, char suffix[17])
{
	rng r;
	rng_init(&r, g->o.seed, PU_SLOT, (uint64_t)p, (uint64_t)k);
	int64_t d = (k + 1) * SLOT_MIN + 1 + rng_below(&r, 4);
	if (suffix)
		rand_chars(&r, suffix, 16, ALNUM);
	return d;
}

static int digest_delivery(const struct gen *g, int p, int64_t h)
{
	rng r;
	rng_init(&r, g->o.seed, PU_DIGEST, (uint64_t)p, (uint64_t)h);
	return 1 + (int)rng_below(&r, 14);
}

/* ---------------------------------------------------------- record format */

static void fmt_error(char *out, size_t n, const char *code, const struct principal *pr,
		      const struct api *ap, const char *region, const char *acct, ts_str res)
{
	if (strstr(code, "Access") || strstr(code, "Unauthorized") ||
	    strstr(code, "AuthorizationError"))
		snprintf(out, n,
			 "%sUser: %s is not authorized to perform: %s:%s on resource: "
			 "arn:aws:%s:%s:%s:%s/* because no identity-based policy allows the %s:%s "
			 "action",
			 strncmp(code, "Client.", 7) ? ""
						      : "You are not authorized to perform this "
							"operation. ",
			 pr->who.p, ap->svc->iam, ap->action, ap->svc->iam, region, acct, ap->noun.p,
			 ap->svc->iam, ap->action);
	else if (strstr(code, "Throttl") || strstr(code, "LimitExceeded") ||
		 strstr(code, "TooManyRequests") || strstr(code, "SlowDown"))
		snprintf(out, n, "Rate exceeded");
	else if (strstr(code, "Validation") || strstr(code, "Invalid") ||
		 strstr(code, "BadRequest"))
		snprintf(out, n,
			 "1 validation error detected: Value '%s' at '%s' failed to satisfy "
			 "constraint: Member must satisfy regular expression pattern: "
			 "^[a-zA-Z0-9_.-]+$",
			 res.p, ap->key.p);
	else if (strstr(code, "NotFound") || strstr(code, "NoSuch") ||
		 strstr(code, "NonExistent"))
		snprintf(out, n, "The %s '%s' does not exist", ap->noun.p, res.p);
	else if (!strcmp(code, "Client.DryRunOperation"))
		snprintf(out, n, "Request would have succeeded, but DryRun flag is set.");
	else if (strstr(code, "Expired"))
		snprintf(out, n, "The security token included in the request is expired");
	else
		snprintf(out, n, "An error occurred (%s) when calling the %s operation", code,
			 ap->action);
}

/* Appends one record; w has REC_MAX bytes of room. */
static char *fmt_record(struct worker *wk, const struct part *pt, const struct ev *e, char *w)
{
	const struct gen *g = wk->g;
	const struct api *ap = &g->apis[e->api];
	const struct papi *pa = &pt->api[e->api];
	const struct principal *pr = pa->prin[e->prin];
	const struct account *ac = &g->accts[pt->acct];
	const char *region = regions[pt->region];
	int64_t sec = g->start_sec + e->sec;
	rng r;
	rng_from(&r, e->seed);
	char *start = w;

	W_LIT(w, "{\"eventVersion\":\"1.09\",\"userIdentity\":");
	w = w_str(w, pr->ui1);
	if (pr->session) {
		int64_t phase = (int64_t)(pr->h % 3600);
		int64_t cd = sec - ((sec - phase) % 3600 + 3600) % 3600;
		w = w_time(w, &wk->dc, cd);
		w = w_str(w, pr->ui2);
	}
	W_LIT(w, ",\"eventTime\":\"");
	w = w_time(w, &wk->dc, sec);
	W_LIT(w, "\",\"eventSource\":\"");
	w = w_cstr(w, ap->svc->source);
	W_LIT(w, "\",\"eventName\":\"");
	w = w_cstr(w, ap->name);
	W_LIT(w, "\",\"awsRegion\":\"");
	w = w_cstr(w, region);
	W_LIT(w, "\",\"sourceIPAddress\":\"");
	w = w_str(w, pr->ip);
	W_LIT(w, "\",\"userAgent\":\"");
	w = w_str(w, pa->ua[e->prin][e->uav]);
	*w++ = '"';
	/* a few hot resources, a long tail */
	double u = rng_unif(&r);
	ts_str res = pa->res[(int)(u * u * NRES)];
	if (e->err >= 0) {
		char msg[1024];
		const char *code = g->codes[e->err];
		fmt_error(msg, sizeof msg, code, pr, ap, region, ac->id, res);
		W_LIT(w, ",\"errorCode\":\"");
		w = w_cstr(w, code);
		W_LIT(w, "\",\"errorMessage\":\"");
		w = w_cstr(w, msg);
		*w++ = '"';
	}
	W_LIT(w, ",\"requestParameters\":");
	w = w_str(w, ap->params1);
	if (ap->vclass != C_LIST) {
		w = w_str(w, res);
		w = w_str(w, ap->params2);
	}
	char reqid[40];
	w_uuid(reqid, &r);
	int ec2 = ap->svc->iam[0] == 'e' && !strcmp(ap->svc->iam, "ec2");
	W_LIT(w, ",\"responseElements\":");
	if (e->err >= 0 || ap->read_only || ap->vclass == C_GET || ap->vclass == C_LIST) {
		W_LIT(w, "null");
	} else if (ec2) {
		W_LIT(w, "{\"requestId\":\"");
		memcpy(w, reqid, 36);
		w += 36;
		if (ap->vclass == C_CREATE) {
			W_LIT(w, "\",\"");
			w = w_str(w, ap->key);
			W_LIT(w, "\":\"");
			w = w_str(w, res);
			W_LIT(w, "\"}");
		} else {
			W_LIT(w, "\",\"_return\":true}");
		}
	} else if (ap->vclass == C_CREATE) {
		W_LIT(w, "{\"");
		w = w_str(w, ap->key);
		W_LIT(w, "\":\"");
		w = w_str(w, res);
		if (!memchr(res.p, ':', res.n) && !memchr(res.p, '/', res.n)) {
			W_LIT(w, "\",\"arn\":\"arn:aws:");
			w = w_cstr(w, ap->svc->iam);
			*w++ = ':';
			w = w_cstr(w, region);
			*w++ = ':';
			w = w_cstr(w, ac->id);
			*w++ = ':';
			w = w_str(w, ap->noun);
			*w++ = '/';
			w = w_str(w, res);
		}
		W_LIT(w, "\"}");
	} else if (ap->vclass == C_MODIFY && ap->modify_resp) {
		W_LIT(w, "{\"");
		w = w_str(w, ap->key);
		W_LIT(w, "\":\"");
		w = w_str(w, res);
		W_LIT(w, "\",\"lastModified\":\"");
		w = w_time(w, &wk->dc, sec);
		W_LIT(w, "\"}");
	} else {
		W_LIT(w, "null");
	}
	W_LIT(w, ",\"requestID\":\"");
	memcpy(w, reqid, 36);
	w += 36;
	W_LIT(w, "\",\"eventID\":\"");
	w = w_uuid(w, &r);
	if (ap->read_only)
		W_LIT(w, "\",\"readOnly\":true");
	else
		W_LIT(w, "\",\"readOnly\":false");
	W_LIT(w, ",\"eventType\":\"AwsApiCall\",\"managementEvent\":true,"
		 "\"recipientAccountId\":\"");
	w = w_cstr(w, ac->id);
	W_LIT(w, "\",\"eventCategory\":\"Management\"");
	if (pr->agent != AG_SVC) {
		if (pr->tls12)
			W_LIT(w, ",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.2\",\"cipherSuite\":"
				 "\"ECDHE-RSA-AES128-GCM-SHA256\",\"clientProvidedHostHeader\":\"");
		else
			W_LIT(w, ",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":"
				 "\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"");
		/* "ec2.us-east-1.amazonaws.com"; global services have no Region */
		const char *src = ap->svc->source;
		size_t sl = strlen(src) - strlen(".amazonaws.com");
		memcpy(w, src, sl);
		w += sl;
		if (!ap->svc->global) {
			*w++ = '.';
			w = w_cstr(w, region);
		}
		W_LIT(w, ".amazonaws.com\"}");
	}
	if (pr->agent == AG_CONSOLE)
		W_LIT(w, ",\"sessionCredentialFromConsole\":\"true\"");
	*w++ = '}';
	if ((size_t)(w - start) >= REC_MAX) {
		fprintf(stderr, "%s: internal error: record longer than %d bytes\n", PROG, REC_MAX);
		abort();
	}
	return w;
}

/* ------------------------------------------------------------ file output */

static int worker_init(struct worker *wk, const struct gen *g)
{
	memset(wk, 0, sizeof *wk);
	wk->g = g;
	wk->dc.day = INT64_MIN;
	wk->json.cap = (size_t)1 << 31;
	if (deflateInit2(&wk->zs, g->o.level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		fprintf(stderr, "%s: cannot initialise zlib\n", PROG);
		return -1;
	}
	wk->zinit = 1;
	wk->zout = xcalloc(ZCHUNK, 1);
	return 0;
}

static void worker_free(struct worker *wk)
{
	if (wk->zinit)
		deflateEnd(&wk->zs);
	free(wk->zout);
	ts_buf_free(&wk->json);
	free(wk->bins[0].ev);
	free(wk->bins[1].ev);
	free(wk->hf);
}

/* mkdir -p; path is restored before returning. */
static int mkdir_p(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		int rc = mkdir(path, 0755);
		int err = errno;
		*p = c;
		if (rc && err != EEXIST) {
			fprintf(stderr, "%s: cannot create directory '%.*s': %s\n", PROG,
				(int)(p - path), path, strerror(err));
			return -1;
		}
		if (!c)
			return 0;
	}
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Writes out/key, gzip-compressed, creating its folder. */
static int write_gz(struct worker *wk, const char *key, const char *data, size_t n)
{
	char path[PATH_MAX + 256];
	int len = snprintf(path, sizeof path, "%s/%s", wk->g->o.out, key);
	if (len < 0 || (size_t)len >= sizeof path) {
		fprintf(stderr, "%s: path too long: '%s/%s'\n", PROG, wk->g->o.out, key);
		return -1;
	}
	char *slash = strrchr(path, '/');
	*slash = '\0';
	if (strcmp(path, wk->lastdir) != 0) {
		if (mkdir_p(path))
			return -1;
		snprintf(wk->lastdir, sizeof wk->lastdir, "%s", path);
	}
	*slash = '/';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", PROG, path, strerror(errno));
		return -1;
	}
	deflateReset(&wk->zs);
	wk->zs.next_in = (const Bytef *)data;
	wk->zs.avail_in = (uInt)n;
	int zrc;
	do {
		wk->zs.next_out = wk->zout;
		wk->zs.avail_out = ZCHUNK;
		zrc = deflate(&wk->zs, Z_FINISH);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
			fprintf(stderr, "%s: cannot compress '%s': zlib error %d\n", PROG, path, zrc);
			close(fd);
			return -1;
		}
		size_t have = ZCHUNK - wk->zs.avail_out;
		if (write_all(fd, wk->zout, have)) {
			fprintf(stderr, "%s: cannot write '%s': %s\n", PROG, path, strerror(errno));
			close(fd);
			return -1;
		}
		wk->st.gz += have;
	} while (zrc != Z_STREAM_END);
	if (close(fd)) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", PROG, path, strerror(errno));
		return -1;
	}
	wk->st.raw += n;
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes the log file of slot k (nothing when it has no events). */
static int emit_file(struct worker *wk, int p, int64_t k, struct evbuf *b)
{
	const struct gen *g = wk->g;
	const struct part *pt = &g->parts[p];
	const char *acct = g->accts[pt->acct].id, *region = regions[pt->region];
	if (!b->n)
		return 0;
	qsort(b->ev, b->n, sizeof *b->ev, ev_cmp);
	char suffix[17], stamp[24], dp[16];
	int64_t minute = g->start_sec / 60 + slot_delivery(g, p, k, suffix);
	stamp_minute(minute, stamp);
	date_path(minute, dp);
	if (wk->nhf == wk->ahf) {
		wk->ahf = wk->ahf ? wk->ahf * 2 : 16;
		wk->hf = xrealloc(wk->hf, wk->ahf * sizeof *wk->hf);
	}
	struct finfo *fi = &wk->hf[wk->nhf++];
	snprintf(fi->key, sizeof fi->key,
		 "AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz", acct, region, dp,
		 acct, region, stamp, suffix);
	fi->oldest = INT64_MAX;
	fi->newest = INT64_MIN;

	ts_buf *j = &wk->json;
	ts_buf_reset(j);
	if (ts_buf_puts(j, "{\"Records\":["))
		goto too_big;
	for (size_t i = 0; i < b->n; i++) {
		const struct ev *e = &b->ev[i];
		if (ts_buf_grow(j, REC_MAX + 1))
			goto too_big;
		char *w = j->p + j->len;
		if (i)
			*w++ = ',';
		w = fmt_record(wk, pt, e, w);
		j->len = (size_t)(w - j->p);
		j->p[j->len] = '\0';
		int64_t sec = g->start_sec + e->sec;
		if (sec < fi->oldest)
			fi->oldest = sec;
		if (sec > fi->newest)
			fi->newest = sec;
	}
	if (ts_buf_puts(j, "]}"))
		goto too_big;
	if (write_gz(wk, fi->key, j->p, j->len))
		return -1;
	wk->st.files++;
	wk->st.records += b->n;
	return 0;
too_big:
	fprintf(stderr, "%s: log file '%s' would exceed 2 GB\n", PROG, fi->key);
	return -1;
}

#define TRAIL "management-events"

static void digest_key(const struct gen *g, int p, int64_t h, char *out, size_t n)
{
	const struct part *pt = &g->parts[p];
	const char *acct = g->accts[pt->acct].id, *region = regions[pt->region];
	char stamp[24], dp[16];
	int64_t minute = g->start_sec / 60 + (h + 1) * 60 + digest_delivery(g, p, h);
	stamp_minute(minute, stamp);
	date_path(minute, dp);
	snprintf(out, n, "AWSLogs/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz",
		 acct, region, dp, acct, region, TRAIL, region, stamp);
}

static void hex_of(uint64_t seed, char *out, int n)
{
	rng r;
	rng_from(&r, seed);
	rand_chars(&r, out, n, "0123456789abcdef");
}

/* Writes the digest of the log files delivered in hour h (since the corpus
 * start) and forgets them. Hashes and signatures are random-looking, not
 * real. */
static int emit_digest(struct worker *wk, int p, int64_t h)
{
	const struct gen *g = wk->g;
	if (g->o.no_digests)
		return 0;
	const struct account *ac = &g->accts[g->parts[p].acct];
	char key[256], prev[256], bucket[64], t1[24], t2[24], hx[520];
	digest_key(g, p, h, key, sizeof key);
	snprintf(bucket, sizeof bucket, "aws-cloudtrail-logs-%s-%.8s", ac->id, ac->fingerprint);
	ts_buf *j = &wk->json;
	ts_buf_reset(j);
	int64_t s0 = g->start_sec + h * 3600;
	*w_time(t1, &wk->dc, s0) = '\0';
	*w_time(t2, &wk->dc, s0 + 3600) = '\0';
	int rc = ts_buf_printf(j,
			       "{\"awsAccountId\":\"%s\",\"digestStartTime\":\"%s\","
			       "\"digestEndTime\":\"%s\",\"digestS3Bucket\":\"%s\","
			       "\"digestS3Object\":\"%s\",\"digestPublicKeyFingerprint\":\"%s\","
			       "\"digestSignatureAlgorithm\":\"SHA256withRSA\"",
			       ac->id, t1, t2, bucket, key, ac->fingerprint);
	int64_t oldest = INT64_MAX, newest = INT64_MIN;
	for (size_t i = 0; i < wk->nhf; i++) {
		if (wk->hf[i].oldest < oldest)
			oldest = wk->hf[i].oldest;
		if (wk->hf[i].newest > newest)
			newest = wk->hf[i].newest;
	}
	if (wk->nhf) {
		*w_time(t1, &wk->dc, newest) = '\0';
		*w_time(t2, &wk->dc, oldest) = '\0';
		rc |= ts_buf_printf(j, ",\"newestEventTime\":\"%s\",\"oldestEventTime\":\"%s\"", t1,
				    t2);
	} else {
		rc |= ts_buf_puts(j, ",\"newestEventTime\":null,\"oldestEventTime\":null");
	}
	if (h > 0) {
		digest_key(g, p, h - 1, prev, sizeof prev);
		hex_of(ts_hash(prev, strlen(prev), g->o.seed), hx, 64);
		rc |= ts_buf_printf(j,
				    ",\"previousDigestS3Bucket\":\"%s\",\"previousDigestS3Object\":"
				    "\"%s\",\"previousDigestHashValue\":\"%s\","
				    "\"previousDigestHashAlgorithm\":\"SHA-256\"",
				    bucket, prev, hx);
		hex_of(ts_hash(prev, strlen(prev), g->o.seed + 1), hx, 512);
		rc |= ts_buf_printf(j, ",\"previousDigestSignature\":\"%s\"", hx);
	} else {
		rc |= ts_buf_puts(j, ",\"previousDigestS3Bucket\":null,\"previousDigestS3Object\":"
				     "null,\"previousDigestHashValue\":null,"
				     "\"previousDigestHashAlgorithm\":null,"
				     "\"previousDigestSignature\":null");
	}
	rc |= ts_buf_puts(j, ",\"logFiles\":[");
	for (size_t i = 0; i < wk->nhf; i++) {
		const struct finfo *fi = &wk->hf[i];
		hex_of(ts_hash(fi->key, strlen(fi->key), g->o.seed), hx, 64);
		*w_time(t1, &wk->dc, fi->newest) = '\0';
		*w_time(t2, &wk->dc, fi->oldest) = '\0';
		rc |= ts_buf_printf(j, "%s{\"s3Bucket\":\"%s\",\"s3Object\":\"%s\",", i ? "," : "",
				    bucket, fi->key);
		rc |= ts_buf_printf(j,
				    "\"hashValue\":\"%s\",\"hashAlgorithm\":\"SHA-256\","
				    "\"newestEventTime\":\"%s\",\"oldestEventTime\":\"%s\"}",
				    hx, t1, t2);
	}
	rc |= ts_buf_puts(j, "]}");
	if (rc) {
		fprintf(stderr, "%s: out of memory writing '%s'\n", PROG, key);
		return -1;
	}
	wk->nhf = 0;
	if (write_gz(wk, key, j->p, j->len))
		return -1;
	wk->st.digests++;
	return 0;
}

/* One work unit: the files of partition p delivered on day d (0 = the
 * start date; day `days` holds the last deliveries), and their digests. */
static int run_unit(struct worker *wk, int p, int d)
{
	const struct gen *g = wk->g;
	int64_t dlo = (int64_t)d * 1440, dhi = dlo + 1440;
	int64_t k = dlo / SLOT_MIN - 3;
	if (k < 0)
		k = 0;
	while (k < g->nslots && slot_delivery(g, p, k, NULL) < dlo)
		k++;
	int64_t k_first = k;
	while (k < g->nslots && slot_delivery(g, p, k, NULL) < dhi)
		k++;
	int64_t k_end = k;
	int64_t hour = dlo / 60, hmax = slot_delivery(g, p, g->nslots - 1, NULL) / 60;
	wk->bins[0].n = wk->bins[1].n = 0;
	wk->nhf = 0;
	/* the slot before the first is generated for its late records only */
	for (k = k_first > 0 ? k_first - 1 : 0; k < k_end; k++) {
		struct evbuf *cur = &wk->bins[k & 1], *nxt = &wk->bins[(k + 1) & 1];
		for (int64_t m = k * SLOT_MIN; m < (k + 1) * SLOT_MIN; m++)
			if (gen_minute(g, p, m, cur, nxt, k + 1 < g->nslots))
				return -1;
		if (k >= k_first) {
			int64_t dm = slot_delivery(g, p, k, NULL);
			for (; hour < dm / 60; hour++)
				if (emit_digest(wk, p, hour))
					return -1;
			if (emit_file(wk, p, k, cur))
				return -1;
		}
		cur->n = 0;
	}
	for (; hour < dhi / 60 && hour <= hmax; hour++)
		if (emit_digest(wk, p, hour))
			return -1;
	return 0;
}

static int run_job(const struct gen *g, int j, int jobs, struct stats *st)
{
	struct worker wk;
	int rc = worker_init(&wk, g);
	int nunits = g->nparts * (g->o.days + 1);
	for (int u = j; u < nunits && !rc; u += jobs)
		rc = run_unit(&wk, u % g->nparts, u / g->nparts);
	*st = wk.st;
	worker_free(&wk);
	return rc;
}

/* Runs the jobs, in this process or in --jobs children; sums their stats. */
static int run_all(const struct gen *g, struct stats *tot)
{
	int jobs = g->o.jobs, failed = 0;
	memset(tot, 0, sizeof *tot);
	if (jobs == 1)
		return run_job(g, 0, 1, tot);
	pid_t pids[64];
	int fds[64], started = 0;
	fflush(NULL);
	for (int j = 0; j < jobs; j++) {
		int fd[2];
		if (pipe(fd)) {
			fprintf(stderr, "%s: pipe: %s\n", PROG, strerror(errno));
			failed = 1;
			break;
		}
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "%s: fork: %s\n", PROG, strerror(errno));
			close(fd[0]);
			close(fd[1]);
			failed = 1;
			break;
		}
		if (pid == 0) {
			close(fd[0]);
			struct stats st;
			int rc = run_job(g, j, jobs, &st);
			if (!rc && write_all(fd[1], &st, sizeof st))
				rc = -1;
			_exit(rc ? 1 : 0);
		}
		close(fd[1]);
		pids[started] = pid;
		fds[started++] = fd[0];
	}
	for (int j = 0; j < started; j++) {
		struct stats st;
		size_t got = 0;
		while (got < sizeof st) {
			ssize_t k = read(fds[j], (char *)&st + got, sizeof st - got);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		close(fds[j]);
		int status;
		while (waitpid(pids[j], &status, 0) < 0 && errno == EINTR)
			;
		if (got != sizeof st || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (WIFSIGNALED(status))
				fprintf(stderr, "%s: job %d killed by signal %d\n", PROG, j,
					WTERMSIG(status));
			failed = 1;
			continue;
		}
		tot->files += st.files;
		tot->digests += st.digests;
		tot->records += st.records;
		tot->raw += st.raw;
		tot->gz += st.gz;
	}
	return failed ? -1 : 0;
}

/* ------------------------------------------------------------------ labels */

static void label_series(FILE *f, const struct gen *g, int p, int a)
{
	const struct part *pt = &g->parts[p];
	fprintf(f, "\"account\":\"%s\",\"region\":\"%s\",\"eventSource\":\"%s\",\"eventName\":\"%s\"",
		g->accts[pt->acct].id, regions[pt->region], g->apis[a].svc->source,
		g->apis[a].name);
}

static void label_minute(FILE *f, const char *name, const struct gen *g, int64_t m)
{
	char t[21];
	ts_format_minute(g->start_sec / 60 + m, t);
	fprintf(f, ",\"%s\":\"%s\"", name, t);
}

/* Closes a file written with stdio; an error on any write or on the close
 * is reported with the file's name. */
static int close_written(FILE *f, const char *path)
{
	int bad = ferror(f);
	if (fclose(f) || bad) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", PROG, path, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_labels(const struct gen *g, const char *path, const struct stats *st)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", PROG, path, strerror(errno));
		return -1;
	}
	char t[21];
	ts_format_minute(g->start_sec / 60, t);
	fprintf(f, "{\"generator\":\"trailsight-gen\",\"seed\":%llu,\"start\":\"%s\",\"days\":%d,",
		(unsigned long long)g->o.seed, t, g->o.days);
	fprintf(f, "\"apis\":%d,\"rate\":%.6g,\"anomalyAfter\":%d,", g->napis, g->o.rate,
		g->o.after);
	if (g->o.job_drift || g->o.job_size_var > 0)
		fprintf(f, "\"jobDrift\":%d,\"jobSizeVar\":%.3g,", g->o.job_drift,
			g->o.job_size_var);
	if (g->o.weekends)
		fputs("\"weekends\":\"varied\",", f);
	if (g->o.subtle)
		fputs("\"subtle\":true,", f);
	if (g->o.job_anoms)
		fprintf(f, "\"jobAnomalies\":%d,", g->o.job_anoms);
	fputs("\"accounts\":[", f);
	for (int i = 0; i < g->o.naccounts; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", g->accts[i].id);
	fputs("],\"regions\":[", f);
	for (int i = 0; i < g->o.nregions; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", regions[i]);
	fprintf(f, "],\"records\":%llu,\"files\":%llu,\"anomalies\":[",
		(unsigned long long)st->records, (unsigned long long)st->files);
	for (int i = 0; i < g->nanoms; i++) {
		const struct anomaly *an = &g->anoms[i];
		const struct papi *pa = &g->parts[an->part].api[an->api];
		fprintf(f, "%s\n{\"id\":%d,\"kind\":\"%s\",\"insightType\":\"%s\",", i ? "," : "",
			an->id, kind_names[an->kind],
			an->kind == K_ERROR ? "ApiErrorRateInsight" : "ApiCallRateInsight");
		label_series(f, g, an->part, an->api);
		if (an->code >= 0)
			fprintf(f, ",\"errorCode\":\"%s\"", g->codes[an->code]);
		else
			fputs(",\"errorCode\":null", f);
		label_minute(f, "start", g, an->start);
		label_minute(f, "end", g, an->end);
		fprintf(f, ",\"factor\":%.4g,\"baseRate\":%.4g", an->factor, an->base_rate);
		if (an->kind == K_RAMP)
			label_minute(f, "rampBegin", g, an->begin);
		if (an->kind == K_ERROR)
			fprintf(f, ",\"baseErrorRate\":%.4g,\"extraRate\":%.4g", an->base_err,
				an->extra);
		if (an->kind == K_SPIKE)
			fprintf(f, ",\"userIdentityArn\":\"%s\",\"userAgent\":\"%s\"",
				pa->prin[SPECIAL]->arn.p, pa->ua[SPECIAL][0].p);
		fputc('}', f);
	}
	fputs("],\"regular\":[", f);
	int n = 0;
	for (int p = 0; p < g->nparts; p++) {
		for (int a = 0; a < g->napis; a++) {
			const struct papi *pa = &g->parts[p].api[a];
			const char *kind = g->apis[a].rare         ? "rare"
					   : pa->role == R_HOURLY  ? "hourly_cron"
					   : pa->role == R_DAILY   ? "daily_cron"
					   : pa->role == R_CHRONIC ? "chronic_errors"
								   : NULL;
			if (!kind)
				continue;
			fprintf(f, "%s\n{\"kind\":\"%s\",", n++ ? "," : "", kind);
			label_series(f, g, p, a);
			if (g->apis[a].rare)
				fprintf(f, ",\"perDay\":%d", pa->rare_per_day);
			else if (pa->role == R_HOURLY)
				fprintf(f, ",\"minute\":%d,\"calls\":%d,\"userIdentityArn\":\"%s\"",
					pa->cron_min, pa->cron_calls, pa->prin[SPECIAL]->arn.p);
			else if (pa->role == R_DAILY)
				fprintf(f,
					",\"time\":\"%02d:%02d\",\"minutes\":%d,\"calls\":%d,"
					"\"userIdentityArn\":\"%s\"",
					pa->daily_min / 60, pa->daily_min % 60, pa->daily_len,
					pa->daily_calls, pa->prin[SPECIAL]->arn.p);
			else
				fprintf(f, ",\"errorCode\":\"%s\",\"errorFraction\":%.3g",
					g->codes[pa->chronic_code], pa->chronic_frac);
			if ((pa->role == R_HOURLY || pa->role == R_DAILY) && !g->apis[a].rare &&
			    (g->o.job_drift || g->o.job_size_var > 0))
				fprintf(f, ",\"drift\":%d,\"sizeVar\":%.3g", g->o.job_drift,
					g->o.job_size_var);
			fputc('}', f);
		}
	}
	if (g->o.weekends) {
		static const char *const wnames[] = {"machine", "mixed", "people"};
		fputs("],\"weekly\":[", f);
		for (int a = 0; a < g->napis; a++) {
			const struct api *ap = &g->apis[a];
			fprintf(f, "%s\n{\"eventSource\":\"%s\",\"eventName\":\"%s\","
				"\"class\":\"%s\",\"weekend\":[", a ? "," : "", ap->svc->source,
				ap->name, wnames[ap->wclass]);
			for (int w = 0; w < g->nweeks; w++)
				fprintf(f, "%s%.3f", w ? "," : "", ap->wk[w]);
			fputs("]}", f);
		}
	}
	fputs("]}\n", f);
	return close_written(f, path);
}

/* --truth: what a minute of each series is drawn from, so that a bench tool
 * can judge the counts against the exact expectation (bench/ttd.py bound):
 * the parameters of api_rate, the series' role and its error draws. Jobs
 * with --job-drift or --job-size-var are marked "drifted" (their runs come
 * from a stream of their own, not written). */
static int write_truth(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", PROG, path, strerror(errno));
		return -1;
	}
	char t[21];
	ts_format_minute(g->start_sec / 60, t);
	fprintf(f, "{\"generator\":\"trailsight-gen\",\"truth\":1,\"seed\":%llu,\"start\":\"%s\","
		"\"startDay\":%lld,\"days\":%d,\"drifted\":%s,\"series\":[",
		(unsigned long long)g->o.seed, t, (long long)g->start_day, g->o.days,
		g->o.job_drift || g->o.job_size_var > 0 ? "true" : "false");
	int n = 0;
	for (int p = 0; p < g->nparts; p++) {
		for (int a = 0; a < g->napis; a++) {
			const struct api *ap = &g->apis[a];
			const struct papi *pa = &g->parts[p].api[a];
			static const char *const roles[] = {"normal", "hourly", "daily", "chronic"};
			fprintf(f, "%s\n{", n++ ? "," : "");
			label_series(f, g, p, a);
			fprintf(f, ",\"readOnly\":%s,\"rare\":%s,\"role\":\"%s\",\"base\":%.17g,"
				"\"night\":%.17g,\"peak\":%.17g,\"norm\":%.17g,\"weekend\":%.17g",
				ap->read_only ? "true" : "false", ap->rare ? "true" : "false",
				roles[pa->role], pa->base, ap->night, ap->peak, ap->norm,
				ap->weekend);
			if (ap->wk) {
				fputs(",\"weeks\":[", f);
				for (int w = 0; w < g->nweeks; w++)
					fprintf(f, "%s%.17g", w ? "," : "", ap->wk[w]);
				fputc(']', f);
			}
			if (pa->role == R_HOURLY)
				fprintf(f, ",\"cronMinute\":%d,\"cronCalls\":%d", pa->cron_min,
					pa->cron_calls);
			else if (pa->role == R_DAILY)
				fprintf(f, ",\"dailyMinute\":%d,\"dailyLen\":%d,\"dailyCalls\":%d",
					pa->daily_min, pa->daily_len, pa->daily_calls);
			if (pa->role == R_CHRONIC) {
				/* every call below chronic_frac fails with its code, and
				 * the background draw (err_rate < 0.1) is never reached */
				fprintf(f, ",\"errors\":{\"%s\":%.17g}", g->codes[pa->chronic_code],
					pa->chronic_frac);
			} else {
				fputs(",\"errors\":{", f);
				for (int i = 0; i < pa->nerr; i++) {
					double lo = i ? pa->ecum[i - 1] : 0;
					fprintf(f, "%s\"%s\":%.17g", i ? "," : "", g->codes[pa->err[i]],
						pa->err_rate * (pa->ecum[i] - lo));
				}
				fputc('}', f);
			}
			fputc('}', f);
		}
	}
	fputs("]}\n", f);
	return close_written(f, path);
}

/* ----------------------------------------------------------------- options */

static void usage(FILE *f)
{
	fputs(
		"usage: trailsight-gen --out DIR [options]\n"
		"Writes deterministic, realistic CloudTrail management-event logs with labelled\n"
		"anomalies under DIR/AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/ (gzip,\n"
		"{\"Records\":[...]}, one file per account and Region about every 5 minutes,\n"
		"named by delivery time; ~1.5% of records arrive one file late, never more than\n"
		"15 minutes after their eventTime), hourly CloudTrail-Digest files, and labels.\n"
		"\n"
		"  --out DIR            output folder (created; existing files are overwritten,\n"
		"                       others left alone)\n"
		"  --labels FILE        labels JSON (default DIR/labels.json)\n"
		"  --truth FILE         write no corpus, only FILE: each series' expected rate\n"
		"                       parameters, role and error draws for the other options\n"
		"                       given (the corpus they make; bench/ttd.py bound)\n"
		"  --seed N             random seed (default 1); same options, same bytes\n"
		"  --start YYYY-MM-DD   first day, UTC (default 2026-01-05, a Monday)\n"
		"  --days N             days of events (default 9)\n"
		"  --apis N             distinct (eventSource, eventName) pairs, half read-only,\n"
		"                       half write, the same in every account and Region\n"
		"                       (default 40, at most the catalog size)\n"
		"  --rate R             mean records per minute over all APIs, accounts and\n"
		"                       Regions before the daily/weekly curve (default 60)\n"
		"  --accounts N         accounts, 12-digit ids (default 1)\n"
		"  --regions N          Regions, first N of us-east-1, eu-west-1, us-west-2,\n"
		"                       ap-southeast-2, eu-central-1, ... (default 1, max 17)\n"
		"  --anomalies N        anomalies to inject (default: 1 per 10 APIs, at least 1)\n"
		"  --kinds LIST         comma-separated subset of spike,drop,error,ramp (default\n"
		"                       all)\n"
		"  --anomaly-after D    anomalies only from day D on (default 7: after a week of\n"
		"                       baseline; days-1 when --days is shorter)\n"
		"  --gzip-level N       zlib level 0-9 (default 6)\n"
		"  --jobs N             worker processes (default 1); output is byte-identical\n"
		"                       for any N\n"
		"  --file-minutes N     minutes of events per log file (default 5, as CloudTrail;\n"
		"                       60 for large organization corpora: fewer files)\n"
		"  --no-digests         write no CloudTrail-Digest files\n"
		"  --job-drift MIN      each run of an hourly or daily job starts up to MIN\n"
		"                       minutes early or late (0-10, default 0: on time)\n"
		"  --job-size-var F     each run's calls are times 1-F to 1+F (0-0.9,\n"
		"                       default 0)\n"
		"  --weekends MODE      'uniform' (default): every API's weekend rate is 40-70%\n"
		"                       of its weekday rate; 'varied': machine APIs (40%)\n"
		"                       keep 90-105%, people's APIs (40%) about a sixth\n"
		"                       (12-22%), the rest 30-80%, each week's level times\n"
		"                       0.9-1.1; labels gain \"weekends\" and \"weekly\"\n"
		"  --job-anomalies N    N anomalies on hourly and daily jobs, in turn: runs\n"
		"                       that stop (job_stop: 3-8 hourly runs or a daily run)\n"
		"                       and one run ten times its size (job_burst)\n"
		"  --subtle             small anomalies, each still clear: spikes x1.8-x4,\n"
		"                       drops to 10-40% of the calls, errors on 5-25% of\n"
		"                       the calls (>= 1 a minute); labels gain \"subtle\"\n"
		"  --org                an organization: cron jobs in one partition in five\n"
		"                       and a tenth as busy, so hundreds of accounts x Regions\n"
		"                       stay mostly sparse (use with --accounts, --regions)\n"
		"  --quiet              no summary line on stderr\n"
		"  --help               this text\n"
		"\n"
		"Anomalies (each on its own series, at random times of day, where visible):\n"
		"  spike  write API x3-x100 for 5-60 min, extra calls from a new IAM user\n"
		"         (user/x-...) with an unusual user agent\n"
		"  drop   write API with >= 10 calls/min falls to zero (--subtle: 10-40%)\n"
		"         for 30-120 min\n"
		"  error  one error code reaches 20-90% of an API's calls (>= 5/min) for\n"
		"         10-60 min (ApiErrorRateInsight)\n"
		"  ramp   write API rises linearly to x5-x20 over 30-90 min, then stops\n"
		"Normal and never labelled as anomalies, but listed under \"regular\": hourly and\n"
		"daily cron bursts, chronic error rates (10-40%), rare APIs (a few calls a day).\n"
		"\n"
		"Labels: {\"generator\",\"seed\",\"start\",\"days\",\"apis\",\"rate\",\"anomalyAfter\",\n"
		"(\"jobDrift\",\"jobSizeVar\" when set; \"weekends\":\"varied\" with it),\n"
		"\"accounts\":[..],\"regions\":[..],\"records\",\"files\",\n"
		"\"anomalies\":[{\"id\",\"kind\",\"insightType\",\"account\",\"region\",\"eventSource\",\n"
		"  \"eventName\",\"errorCode\"(null for call rate),\"start\",\"end\"(exclusive, UTC\n"
		"  minutes),\"factor\",\"baseRate\"(expected calls/min at start), ramp: \"rampBegin\";\n"
		"  error: \"baseErrorRate\",\"extraRate\"; spike: \"userIdentityArn\",\"userAgent\"}],\n"
		"\"regular\":[{\"kind\":\"hourly_cron\"|\"daily_cron\"|\"chronic_errors\"|\"rare\",\n"
		"  \"account\",\"region\",\"eventSource\",\"eventName\", and \"minute\" | \"time\" |\n"
		"  \"errorCode\" | \"perDay\"}],\n"
		"with --weekends varied \"weekly\":[{\"eventSource\",\"eventName\",\"class\":\"machine\"|\n"
		"  \"mixed\"|\"people\",\"weekend\":[level of each calendar week]}]}.\n"
		"Anomalies are sorted by start. See tools/GEN.md.\n"
		"\n"
		"Prints one summary line (files, records, bytes, seconds) to stderr; exits 0,\n"
		"or 1 on bad usage or a write error.\n",
		f);
}

static int bad_value(const char *opt, const char *v, const char *why)
{
	fprintf(stderr, "%s: bad value '%s' for %s: %s (try --help)\n", PROG, v, opt, why);
	return -1;
}

static int parse_long(const char *opt, const char *v, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (!*v || *end || errno || x < lo || x > hi) {
		char why[64];
		snprintf(why, sizeof why, "want an integer from %ld to %ld", lo, hi);
		return bad_value(opt, v, why);
	}
	*out = (int)x;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o, int *help)
{
	int after_set = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		char name[32];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = 1;
			return 0;
		}
		if (!strcmp(a, "--quiet")) {
			o->quiet = 1;
			continue;
		}
		if (!strcmp(a, "--no-digests")) {
			o->no_digests = 1;
			continue;
		}
		if (!strcmp(a, "--org")) {
			o->org = 1;
			continue;
		}
		if (!strcmp(a, "--subtle")) {
			o->subtle = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", PROG, a);
			return -1;
		}
		static const char *const known[] = {
			"--out", "--labels", "--seed", "--start", "--days", "--apis", "--rate",
			"--accounts", "--regions", "--anomalies", "--kinds", "--anomaly-after",
			"--gzip-level", "--jobs", "--file-minutes", "--job-drift", "--job-size-var",
			"--weekends", "--job-anomalies", "--truth"};
		const char *eq = strchr(a, '=');
		snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		size_t kn = 0;
		while (kn < TS_ARRAY_LEN(known) && strcmp(name, known[kn]) != 0)
			kn++;
		if (kn == TS_ARRAY_LEN(known)) {
			fprintf(stderr, "%s: unknown option '%s' (try --help)\n", PROG, name);
			return -1;
		}
		if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: %s needs a value (try --help)\n", PROG, a);
				return -1;
			}
			v = argv[++i];
		}
		int rc = 0;
		if (!strcmp(name, "--out")) {
			o->out = v;
			rc = *v ? 0 : bad_value(name, v, "empty");
		} else if (!strcmp(name, "--truth")) {
			o->truth = v;
			rc = *v ? 0 : bad_value(name, v, "empty");
		} else if (!strcmp(name, "--labels")) {
			o->labels = v;
			rc = *v ? 0 : bad_value(name, v, "empty");
		} else if (!strcmp(name, "--seed")) {
			char *end;
			errno = 0;
			unsigned long long x = strtoull(v, &end, 10);
			if (!*v || *end || errno || *v == '-')
				rc = bad_value(name, v, "want a non-negative integer");
			o->seed = x;
		} else if (!strcmp(name, "--start")) {
			char buf[32];
			int64_t sec;
			snprintf(buf, sizeof buf, "%sT00:00:00Z", v);
			if (strlen(v) != 10 || ts_parse_time(buf, strlen(buf), &sec) ||
			    sec > 253402214400LL - 86400LL * 3700)
				rc = bad_value(name, v, "want a date YYYY-MM-DD");
			else
				snprintf(o->start, sizeof o->start, "%s", v);
		} else if (!strcmp(name, "--days")) {
			rc = parse_long(name, v, 1, 3660, &o->days);
		} else if (!strcmp(name, "--apis")) {
			rc = parse_long(name, v, 1, 10000, &o->napis);
		} else if (!strcmp(name, "--rate")) {
			char *end;
			errno = 0;
			o->rate = strtod(v, &end);
			if (!*v || *end || errno || !(o->rate > 0) || o->rate > 1e6)
				rc = bad_value(name, v, "want a number > 0 and <= 1000000");
		} else if (!strcmp(name, "--accounts")) {
			rc = parse_long(name, v, 1, 1000, &o->naccounts);
		} else if (!strcmp(name, "--regions")) {
			rc = parse_long(name, v, 1, (long)TS_ARRAY_LEN(regions), &o->nregions);
		} else if (!strcmp(name, "--anomalies")) {
			rc = parse_long(name, v, 0, 100000, &o->nanom);
		} else if (!strcmp(name, "--kinds")) {
			o->kinds = 0;
			const char *p = v;
			while (!rc) {
				size_t len = strcspn(p, ",");
				int k = 0;
				while (k < K_COUNT &&
				       (strlen(kind_names[k]) != len || strncmp(p, kind_names[k], len)))
					k++;
				if (k == K_COUNT)
					rc = bad_value(name, v, "want a list of spike,drop,error,ramp");
				else
					o->kinds |= 1u << k;
				if (!p[len])
					break;
				p += len + 1;
			}
		} else if (!strcmp(name, "--anomaly-after")) {
			rc = parse_long(name, v, 0, 3660, &o->after);
			after_set = 1;
		} else if (!strcmp(name, "--gzip-level")) {
			rc = parse_long(name, v, 0, 9, &o->level);
		} else if (!strcmp(name, "--jobs")) {
			rc = parse_long(name, v, 1, 64, &o->jobs);
		} else if (!strcmp(name, "--file-minutes")) {
			rc = parse_long(name, v, 1, 1440, &o->file_min);
		} else if (!strcmp(name, "--weekends")) {
			if (!strcmp(v, "varied"))
				o->weekends = 1;
			else if (!strcmp(v, "uniform"))
				o->weekends = 0;
			else
				rc = bad_value(name, v, "want uniform or varied");
		} else if (!strcmp(name, "--job-anomalies")) {
			rc = parse_long(name, v, 0, 1000, &o->job_anoms);
		} else if (!strcmp(name, "--job-drift")) {
			rc = parse_long(name, v, 0, 10, &o->job_drift);
		} else if (!strcmp(name, "--job-size-var")) {
			char *end;
			errno = 0;
			o->job_size_var = strtod(v, &end);
			if (!*v || *end || errno || !(o->job_size_var >= 0) || o->job_size_var > 0.9)
				rc = bad_value(name, v, "want a number from 0 to 0.9");
		} else {
			fprintf(stderr, "%s: unknown option '%s' (try --help)\n", PROG, name);
			return -1;
		}
		if (rc)
			return -1;
	}
	if (!o->out && !o->truth) {
		fprintf(stderr, "%s: --out DIR is required (try --help)\n", PROG);
		return -1;
	}
	if (!after_set && o->after > o->days - 1)
		o->after = o->days - 1;
	if (o->after > o->days) {
		fprintf(stderr, "%s: --anomaly-after %d is beyond --days %d\n", PROG, o->after,
			o->days);
		return -1;
	}
	return 0;
}

/* Everything a corpus or its truth is drawn from: the APIs, weekends,
 * accounts, partitions and the anomalies planned on them. */
static int build_model(struct gen *g)
{
	int rc = build_apis(g);
	if (rc)
		return rc;
	plan_weekends(g);
	build_accounts(g);
	build_parts(g);
	plan_anomalies(g);
	plan_job_anomalies(g);
	return 0;
}

static void free_model(struct gen *g)
{
	for (int p = 0; p < g->nparts; p++) {
		for (int a = 0; a < g->napis; a++)
			free((void *)g->parts[p].api[a].prin[SPECIAL]);
		free(g->parts[p].api);
	}
	free(g->parts);
	free(g->accts);
	for (int a = 0; a < g->napis; a++)
		free(g->apis[a].wk);
	free(g->apis);
	free(g->anoms);
	while (g->arena) {
		struct ablock *b = g->arena;
		g->arena = b->next;
		free(b);
	}
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct gen g;
	memset(&g, 0, sizeof g);
	struct opts *o = &g.o;
	o->seed = 1;
	snprintf(o->start, sizeof o->start, "2026-01-05");
	o->days = 9;
	o->napis = 40;
	o->file_min = 5;
	o->rate = 60;
	o->naccounts = o->nregions = 1;
	o->nanom = -1;
	o->kinds = (1u << K_COUNT) - 1;
	o->after = 7;
	o->level = 6;
	o->jobs = 1;
	int help = 0;
	if (parse_args(argc, argv, o, &help))
		return 1;
	if (help) {
		usage(stdout);
		return ferror(stdout) ? 1 : 0;
	}
	if (o->nanom < 0)
		o->nanom = o->napis >= 15 ? (o->napis + 5) / 10 : 1;
	double t0 = now_seconds();

	char buf[32];
	snprintf(buf, sizeof buf, "%sT00:00:00Z", o->start);
	ts_parse_time(buf, strlen(buf), &g.start_sec);
	g.start_day = g.start_sec / 86400;
	g.total_min = (int64_t)o->days * 1440;
	g.nslots = g.total_min / o->file_min;

	if (o->truth) {
		int rc = build_model(&g);
		if (!rc)
			rc = write_truth(&g, o->truth);
		free_model(&g);
		return rc ? 1 : 0;
	}
	char labels[PATH_MAX];
	if (o->labels)
		snprintf(labels, sizeof labels, "%s", o->labels);
	else if (snprintf(labels, sizeof labels, "%s/labels.json", o->out) >= (int)sizeof labels) {
		fprintf(stderr, "%s: path too long: '%s'\n", PROG, o->out);
		return 1;
	}
	char outdir[PATH_MAX];
	snprintf(outdir, sizeof outdir, "%s", o->out);
	if (mkdir_p(outdir))
		return 1;

	int rc = build_model(&g);
	if (!rc) {
		struct stats st;
		rc = run_all(&g, &st);
		if (!rc)
			rc = write_labels(&g, labels, &st);
		if (!rc && !o->quiet)
			fprintf(stderr,
				"%s: %llu log files + %llu digests, %llu records, %.1f MB JSON, "
				"%.1f MB gzip, %d anomalies, %.2f s\n",
				PROG, (unsigned long long)st.files, (unsigned long long)st.digests,
				(unsigned long long)st.records, st.raw / 1e6, st.gz / 1e6, g.nanoms,
				now_seconds() - t0);
	}
	free_model(&g);
	return rc ? 1 : 0;
}
