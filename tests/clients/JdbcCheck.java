// What the PostgreSQL JDBC driver (pgJDBC, as DBeaver, Tableau and
// Metabase use it) reads from `opskpi serve`: the tables and columns
// through DatabaseMetaData (the catalogue queries BI tools send), and an
// indicator through a prepared statement run past the driver's
// prepareThreshold (5), when it switches to named server-side statements.
// Prints one `key=value` line per finding, for tests/serve.rs.
//
//   java -cp postgresql.jar:. JdbcCheck JDBC_URL USER PASSWORD
import java.sql.*;
import java.util.*;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product=" + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
            List<String> schemas = new ArrayList<>();
            try (ResultSet r = md.getSchemas()) {
                while (r.next()) schemas.add(r.getString("TABLE_SCHEM"));
            }
            System.out.println("schemas=" + String.join(",", schemas));
            List<String> tables = new ArrayList<>();
            try (ResultSet r = md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
                while (r.next()) tables.add(r.getString("TABLE_NAME") + ":" + r.getString("TABLE_TYPE"));
            }
            System.out.println("tables=" + String.join(",", tables));
            for (String table : new String[] {"sales", "kpi_monthly"}) {
                List<String> columns = new ArrayList<>();
                try (ResultSet r = md.getColumns(null, null, table, "%")) {
                    while (r.next()) {
                        columns.add(r.getString("COLUMN_NAME") + ":" + r.getString("TYPE_NAME") + ":"
                                + r.getInt("DATA_TYPE") + ":" + r.getInt("COLUMN_SIZE") + ":"
                                + r.getInt("DECIMAL_DIGITS") + ":" + r.getInt("ORDINAL_POSITION"));
                    }
                }
                System.out.println("columns." + table + "=" + String.join(",", columns));
            }
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT region, value FROM kpi('net_sales', ?, by := 'region') ORDER BY region")) {
                List<String> last = new ArrayList<>();
                for (int i = 0; i < 7; i++) {
                    p.setString(1, "2024-03");
                    last.clear();
                    try (ResultSet r = p.executeQuery()) {
                        while (r.next()) last.add(r.getString(1) + ":" + r.getBigDecimal(2).toPlainString());
                    }
                }
                System.out.println("kpi=" + String.join(",", last));
            } catch (SQLException e) {
                System.out.println("kpi.error=" + e.getSQLState());
            }
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT * FROM no_such_table");
            } catch (SQLException e) {
                System.out.println("error=" + e.getSQLState());
            }
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM kpi_monthly")) {
                r.next();
                System.out.println("after_error=" + (r.getLong(1) > 0));
            }
        }
    }
}
