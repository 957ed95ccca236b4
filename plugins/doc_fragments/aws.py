# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # AWS connection options of the modules that call AWS through boto3.
    DOCUMENTATION = r"""
options:
  region:
    description:
      - The AWS region, for example V(eu-west-1).
      - When not set, boto3 reads E(AWS_REGION), E(AWS_DEFAULT_REGION) or the profile's region.
    type: str
    aliases: [aws_region]
  profile:
    description:
      - A named profile from the AWS configuration files (C(~/.aws/config), C(~/.aws/credentials)).
      - When not set, boto3 reads E(AWS_PROFILE).
      - Do not combine with O(access_key), O(secret_key) and O(session_token).
    type: str
    aliases: [aws_profile]
  access_key:
    description:
      - The AWS access key ID.
      - When neither this nor O(profile) is set, boto3 looks for credentials in its usual order
        (environment variables, configuration files, container or instance role).
    type: str
    aliases: [aws_access_key_id]
  secret_key:
    description:
      - The AWS secret access key that goes with O(access_key).
    type: str
    aliases: [aws_secret_access_key]
  session_token:
    description:
      - The AWS session token, for temporary credentials.
    type: str
    aliases: [aws_session_token]
  endpoint_url:
    description:
      - Send requests to this URL instead of the service's regional endpoint, for example a VPC
        interface endpoint.
    type: str
    aliases: [aws_endpoint_url]
requirements:
  - boto3 >= 1.28.0
  - botocore >= 1.31.0
notes:
  - Throttled requests, 5xx answers and connection errors are retried with jittered exponential
    backoff (botocore's C(standard) retry mode), up to 8 attempts.
"""
