//! The Spark Connect messages opskpi sends and reads, as prost messages.
//!
//! A subset of Spark's `spark/connect/*.proto` (Apache Spark 4.x): the
//! fields keep Spark's names and numbers, so the wire format is Spark's; the
//! fields and `oneof` cases opskpi does not use are left out (protobuf skips
//! what a message does not declare). Generating all of Spark's protos would
//! add about 30,000 lines of Rust to every build for the half-dozen messages
//! a SQL client needs.

/// `spark.connect.UserContext`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UserContext {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(string, tag = "2")]
    pub user_name: String,
}

/// `spark.connect.ExecutePlanRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutePlanRequest {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(message, optional, tag = "2")]
    pub user_context: Option<UserContext>,
    #[prost(message, optional, tag = "3")]
    pub plan: Option<Plan>,
    #[prost(string, optional, tag = "4")]
    pub client_type: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub operation_id: Option<String>,
}

/// `spark.connect.Plan`: a relation to answer, or a command to run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Plan {
    #[prost(oneof = "plan::OpType", tags = "1, 2")]
    pub op_type: Option<plan::OpType>,
}

pub mod plan {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum OpType {
        #[prost(message, tag = "1")]
        Root(super::Relation),
        #[prost(message, tag = "2")]
        Command(super::Command),
    }
}

/// `spark.connect.Relation`, only its `sql` case (10).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Relation {
    #[prost(oneof = "relation::RelType", tags = "10")]
    pub rel_type: Option<relation::RelType>,
}

pub mod relation {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum RelType {
        #[prost(message, tag = "10")]
        Sql(super::Sql),
    }
}

/// `spark.connect.SQL`: a query's text.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sql {
    #[prost(string, tag = "1")]
    pub query: String,
}

/// `spark.connect.Command`, only its `sql_command` case (5).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Command {
    #[prost(oneof = "command::CommandType", tags = "5")]
    pub command_type: Option<command::CommandType>,
}

pub mod command {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum CommandType {
        #[prost(message, tag = "5")]
        SqlCommand(super::SqlCommand),
    }
}

/// `spark.connect.SqlCommand`: a statement run for its effect.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlCommand {
    #[prost(string, tag = "1")]
    pub sql: String,
}

/// `spark.connect.ExecutePlanResponse`: one message of the answer's stream.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutePlanResponse {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(string, tag = "12")]
    pub operation_id: String,
    #[prost(string, tag = "15")]
    pub server_side_session_id: String,
    #[prost(oneof = "execute_plan_response::ResponseType", tags = "2, 14")]
    pub response_type: Option<execute_plan_response::ResponseType>,
}

pub mod execute_plan_response {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum ResponseType {
        #[prost(message, tag = "2")]
        ArrowBatch(ArrowBatch),
        #[prost(message, tag = "14")]
        ResultComplete(ResultComplete),
    }

    /// Rows as an Arrow IPC stream (a schema and record batches).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ArrowBatch {
        #[prost(int64, tag = "1")]
        pub row_count: i64,
        #[prost(bytes = "vec", tag = "2")]
        pub data: Vec<u8>,
    }

    /// The last message of a complete answer.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResultComplete {}
}

/// `spark.connect.ReleaseSessionRequest`: the session's views and state
/// can go.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReleaseSessionRequest {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(message, optional, tag = "2")]
    pub user_context: Option<UserContext>,
    #[prost(string, optional, tag = "3")]
    pub client_type: Option<String>,
}

/// `spark.connect.ReleaseSessionResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReleaseSessionResponse {
    #[prost(string, tag = "1")]
    pub session_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The bytes Spark's own Python client (pyspark 4.3, its generated
    /// `base_pb2`) writes for the same request, taken from
    /// `ExecutePlanRequest(session_id="s", user_context=UserContext(user_id="u"),
    /// plan=Plan(root=Relation(sql=SQL(query="SELECT 1"))), client_type="c")
    /// .SerializeToString()`, and decoded field by field by hand:
    /// 0a 01 73 (1: "s"), 12 03 0a 01 75 (2: {1: "u"}),
    /// 1a 0e 0a 0c 52 0a 0a 08 … (3: {1: {10: {1: "SELECT 1"}}}), 22 01 63 (4: "c").
    #[test]
    fn a_query_is_written_as_spark_writes_it() {
        let request = ExecutePlanRequest {
            session_id: "s".into(),
            user_context: Some(UserContext {
                user_id: "u".into(),
                user_name: String::new(),
            }),
            plan: Some(Plan {
                op_type: Some(plan::OpType::Root(Relation {
                    rel_type: Some(relation::RelType::Sql(Sql {
                        query: "SELECT 1".into(),
                    })),
                })),
            }),
            client_type: Some("c".into()),
            operation_id: None,
        };
        let mut expected = vec![0x0a, 0x01, b's', 0x12, 0x03, 0x0a, 0x01, b'u'];
        expected.extend([0x1a, 0x0e, 0x0a, 0x0c, 0x52, 0x0a, 0x0a, 0x08]);
        expected.extend(b"SELECT 1");
        expected.extend([0x22, 0x01, b'c']);
        assert_eq!(request.encode_to_vec(), expected);
    }
}
