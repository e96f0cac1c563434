//! Every Redis key callhook writes, built from one prefix (CONTRACT §3).
//!
//! The braces are literal Redis Cluster hash tags: only the id between them is
//! substituted, so agent `agent_42` → `callhook:attempts:{agent_42}`.

/// The key names under one prefix (`callhook` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix` (no trailing colon).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `callhook:job:{<job_id>}`: the raw job, kept for retries.
    pub fn job(&self, job_id: &str) -> String {
        format!("{}:job:{{{job_id}}}", self.prefix)
    }

    /// `callhook:attempts`: the global attempt stream.
    pub fn attempts(&self) -> String {
        format!("{}:attempts", self.prefix)
    }

    /// `callhook:attempts:{<agent_id>}`: one agent's attempt stream.
    pub fn agent_attempts(&self, agent_id: &str) -> String {
        format!("{}:attempts:{{{agent_id}}}", self.prefix)
    }

    /// `callhook:state:{<job_id>}`: hash integration_id → latest record JSON.
    pub fn state(&self, job_id: &str) -> String {
        format!("{}:state:{{{job_id}}}", self.prefix)
    }

    /// `callhook:attempt:{<attempt_id>}`: where an attempt's job and stream entry are.
    pub fn attempt(&self, attempt_id: &str) -> String {
        format!("{}:attempt:{{{attempt_id}}}", self.prefix)
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new(crate::config::DEFAULT_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_contract() {
        let k = Keys::default();
        assert_eq!(k.job("j1"), "callhook:job:{j1}");
        assert_eq!(k.attempts(), "callhook:attempts");
        assert_eq!(k.agent_attempts("agent_42"), "callhook:attempts:{agent_42}");
        assert_eq!(k.state("j1"), "callhook:state:{j1}");
        assert_eq!(k.attempt("01J"), "callhook:attempt:{01J}");
        assert_eq!(Keys::new("t-1").job("j"), "t-1:job:{j}");
    }
}
