/** How much an action can harm: decides how many approvals CARS asks for and what the audit log records. */
export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';
