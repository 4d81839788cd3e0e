variable "zone_name" {
  description = "The hosted zone that holds the records, e.g. techitfactory.com (registered and delegated outside Terraform)."
  type        = string
  default     = "techitfactory.com"
}

variable "create_zone" {
  description = "Create the hosted zone (true in exactly one environment, or none when it already exists); otherwise it is looked up by name."
  type        = bool
  default     = false
}

variable "domain_name" {
  description = "Name the environment is served at: dev.techitfactory.com, or techitfactory.com for prod."
  type        = string
}

variable "subject_alternative_names" {
  description = "More names on the certificate; by default the wildcard of domain_name (for api.<domain> etc.)."
  type        = list(string)
  default     = null
}

variable "caa_issuers" {
  description = "CAs allowed to issue for the domain (CAA record); Amazon for ACM."
  type        = list(string)
  default     = ["amazon.com"]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
