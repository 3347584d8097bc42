/**
 * Least-privilege key policy for Kakunin's KMS keys.
 * - The account root may administer the key (this also lets IAM policies grant administration),
 *   but not schedule its deletion, and it cannot use the key: crypto use is not delegated to IAM.
 * - The service role may only Sign, GetPublicKey, DescribeKey and DisableKey.
 * - The service role is explicitly denied ScheduleKeyDeletion and PutKeyPolicy (Kakunin never
 *   deletes a key: signatures made with retired keys must stay verifiable against their certificates).
 */
export interface KeyPolicyContext {
  accountId: string;
  serviceRoleArn: string;
  purpose: "agent" | "ca" | "log" | "tlog";
  region: string;
}

export const SERVICE_ROLE_ACTIONS = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey", "kms:DisableKey"] as const;

export const ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:CancelKeyDeletion",
] as const;

export function buildKeyPolicy(ctx: KeyPolicyContext): string {
  if (!/^\d{12}$/.test(ctx.accountId)) throw new Error(`accountId must be 12 digits: ${ctx.accountId}`);
  const root = `arn:aws:iam::${ctx.accountId}:root`;
  return JSON.stringify({
    Version: "2012-10-17",
    Id: `kakunin-${ctx.purpose}-key`,
    Statement: [
      {
        Sid: "AccountAdministrationExceptDeletion",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: [...ADMIN_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "KakuninServiceUse",
        Effect: "Allow",
        Principal: { AWS: ctx.serviceRoleArn },
        Action: [...SERVICE_ROLE_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "KakuninServiceNeverDeletesOrRepolicies",
        Effect: "Deny",
        Principal: { AWS: ctx.serviceRoleArn },
        Action: ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"],
        Resource: "*",
      },
    ],
  });
}
