"""CreateBucket enforces S3's bucket naming rules
(docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.s3.names import valid

REFUSED = ["ExampleS3Bucket", "my_bucket", "ab", "a" * 64, "-leading", "trailing-",
           "two..periods", "192.168.5.4", "xn--punycode", "sthree-x", "amzn-s3-demo-bucket",
           "alias-s3alias", "lambda--ol-s3", "point.mrap", "base--use1-az4--x-s3",
           "tables--table-s3"]
ALLOWED = ["abc", "a" * 63, "my-bucket.example", "docexamplebucket1", "192.168.5.4x",
           "xn-one-dash"]


@pytest.mark.parametrize("name", REFUSED)
def test_a_name_the_rules_forbid_is_refused(name):
    assert not valid(name)


@pytest.mark.parametrize("name", ALLOWED)
def test_a_name_the_rules_allow_is_accepted(name):
    assert valid(name)


def test_create_bucket_answers_invalid_bucket_name_as_s3_does(sb):
    s3 = boto3.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.create_bucket(Bucket="ExampleS3Bucket")
    assert refused.value.response["Error"]["Code"] == "InvalidBucketName"
    assert refused.value.response["Error"]["Message"] == "The specified bucket is not valid."
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="example-s3-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["example-s3-bucket"]
