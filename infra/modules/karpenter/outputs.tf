output "controller_role_arn" {
  description = "IRSA role of the Karpenter controller (gitops: serviceAccount.annotations)."
  value       = aws_iam_role.controller.arn
}

output "node_role_arn" {
  description = "IAM role of the nodes Karpenter launches."
  value       = aws_iam_role.node.arn
}

output "node_instance_profile_name" {
  description = "Instance profile of those nodes (EC2NodeClass spec.instanceProfile)."
  value       = aws_iam_instance_profile.node.name
}

output "interruption_queue_name" {
  description = "SQS queue of interruption events (Karpenter settings.interruptionQueue)."
  value       = aws_sqs_queue.interruption.name
}
