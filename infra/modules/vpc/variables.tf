variable "name" {
  description = "Name prefix of every resource, e.g. techitfactory-dev."
  type        = string
}

variable "cidr_block" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be an IPv4 CIDR such as 10.0.0.0/16."
  }
}

variable "azs" {
  description = "The two availability zones (AZ-A first: it holds the single NAT gateway)."
  type        = list(string)

  validation {
    condition     = length(var.azs) == 2
    error_message = "azs must name exactly two availability zones."
  }
}

variable "public_subnet_cidrs" {
  description = "Public subnets (load balancers, NAT), one per AZ in the order of azs."
  type        = list(string)
  default     = ["10.0.1.0/24", "10.0.2.0/24"]
}

variable "private_subnet_cidrs" {
  description = "Private subnets (EKS worker nodes), one per AZ in the order of azs."
  type        = list(string)
  default     = ["10.0.10.0/24", "10.0.20.0/24"]
}

variable "nat_gateway_count" {
  description = "1: one NAT gateway in AZ-A shared by both private subnets (cheap, AZ-A is a single point of failure for egress); 2: one per AZ."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2], var.nat_gateway_count)
    error_message = "nat_gateway_count must be 1 (single NAT in AZ-A) or 2 (one per AZ)."
  }
}

variable "cluster_name" {
  description = "EKS cluster whose load balancers and nodes use these subnets (for discovery tags)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "flow_logs_retention_days" {
  description = "Retention of the VPC flow logs (rejected and accepted traffic) in CloudWatch; 0 disables flow logs."
  type        = number
  default     = 14
}

variable "private_subnet_tags" {
  description = "More tags on the private subnets, e.g. karpenter.sh/discovery = <cluster> where Karpenter launches nodes."
  type        = map(string)
  default     = {}
}
