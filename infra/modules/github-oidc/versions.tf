terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      # >= 5.81: thumbprint_list of aws_iam_openid_connect_provider is optional (AWS trusts
      # GitHub's OIDC endpoint through its own CA store).
      source  = "hashicorp/aws"
      version = ">= 5.81.0, < 6.0.0"
    }
  }
}
