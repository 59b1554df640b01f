"""test/dns/moto_setup.py MOTO_URL ZONE: the AWS side of the Route 53 tests, made in moto's
first unauthenticated calls (five: user, key, user policy, role, role policy); the hosted
zone is then created with the new key. Prints JSON: access_key_id, secret_access_key,
role_arn, zone_id."""
import json
import sys

import boto3

from moto_client import client

url, zone = sys.argv[1], sys.argv[2]
anon = dict(endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="setup")
iam = boto3.client("iam", **anon)
iam.create_user(UserName="vault-dns")
key = iam.create_access_key(UserName="vault-dns")["AccessKey"]
allow = lambda actions: json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": actions, "Resource": "*"}]})
iam.put_user_policy(UserName="vault-dns", PolicyName="dns",
                    PolicyDocument=allow(["route53:*", "sts:AssumeRole"]))
trust = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "vault-ext-id"}}}]})
role = iam.create_role(RoleName="vault-dns-role", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="vault-dns-role", PolicyName="r53", PolicyDocument=allow("route53:*"))
r53 = client("route53", url, key["AccessKeyId"], key["SecretAccessKey"])
z = r53.create_hosted_zone(Name=zone, CallerReference="vault-dns-tests")["HostedZone"]
print(json.dumps({"access_key_id": key["AccessKeyId"],
                  "secret_access_key": key["SecretAccessKey"],
                  "role_arn": role["Arn"], "zone_id": z["Id"].split("/")[-1]}))
