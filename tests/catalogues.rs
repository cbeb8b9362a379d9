//! A project's own catalogue: its indicators and component queries work in
//! every command, and a mistake names the file and the line.

use crate::cmd::*;

#[test]
fn a_projects_own_indicators_work_everywhere_and_mistakes_name_file_and_line() {
    let project = tiny_project();
    let dir = project.path();
    let config = config_arg(dir);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[indicators]\nfile = \"my-indicators.toml\"\n"),
    )
    .unwrap();
    let catalogue = "# The project's own indicators.\n\n\
        [[indicator]]\nid = \"average_line_value\"\nlabel = \"Average line value\"\nunit = \"money\"\n\
        direction = \"higher\"\nquery = \"sales\"\nformula = \"net_amount / lines\"\n\
        definition = \"Net sales per order line, returns included.\"\ntarget = 500\nwarning = 400\n\n\
        [[indicator]]\nid = \"average_line_value_growth\"\nlabel = \"Average line value growth\"\nunit = \"ratio\"\n\
        direction = \"higher\"\ngrowth_of = \"average_line_value\"\ncompare = \"last_year\"\n\
        definition = \"Average line value against last year.\"\ntarget = 0\nwarning = -0.05\n";
    std::fs::write(dir.join("my-indicators.toml"), catalogue).unwrap();
    let output = kpi(
        dir,
        &[
            "average_line_value",
            "average_line_value_growth",
            "--period",
            "2024-03",
            "--format",
            "csv",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // March 2024: 2180 over O4's two lines and O5's two (its return is a
    // line) = 545; March 2023: (1000 + 180) / 2 = 590; growth 545/590 − 1
    // = −45/590 = −0.0762711864406779…, to 15 significant digits
    // −0.0762711864406780, written without its trailing zero.
    let text = stdout(&output);
    assert!(text.contains("average_line_value,Average line value,money,relative,2024-03,false,545,,,590,-0.076271186440678,500,good"), "{text}");
    assert!(text.contains("average_line_value_growth,Average line value growth,ratio,difference,2024-03,false,-0.076271186440678"), "{text}");
    // Listed, explained, and in SQL.
    let list = stdout(&opskpi(&["kpi", "--list", "--config", &config]));
    assert!(
        list.contains("average_line_value") && list.contains("net_amount / lines"),
        "{list}"
    );
    let explained = stdout(&opskpi(&[
        "explain",
        "average_line_value",
        "--config",
        &config,
    ]));
    assert!(
        explained.contains("formula:     net_amount / lines   [sales]"),
        "{explained}"
    );
    assert!(explained.contains("count(*) AS lines"), "{explained}");
    // A component the formula reads twice is asked for once.
    let explained = stdout(&opskpi(&["explain", "sell_through", "--config", &config]));
    assert!(
        explained.contains("components:  units_sold, closing_units of query `inventory`"),
        "{explained}"
    );
    let output = sql(
        dir,
        "select value from kpi('average_line_value', '2024-03')",
        &["--format", "csv", "--as-of", "2024-12-31"],
    );
    assert_eq!(
        stdout(&output),
        "value\n545.000000000000000000\n",
        "{}",
        stderr(&output)
    );

    // A mistake: the file, the line of the indicator, what is wrong, a hint.
    std::fs::write(
        dir.join("my-indicators.toml"),
        catalogue.replace("net_amount / lines", "net_amout / lines"),
    )
    .unwrap();
    let output = kpi(dir, &["net_sales", "--period", "2024-03"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("my-indicators.toml` line 4: indicator `average_line_value`: `net_amout` is not a component of query `sales`"), "{message}");
    assert!(
        message.contains(
            "hint: a formula reads the components of one query, built in or the file's own"
        ),
        "{message}"
    );
    // A built-in id cannot be taken.
    std::fs::write(
        dir.join("my-indicators.toml"),
        catalogue.replace("id = \"average_line_value\"\n", "id = \"net_sales\"\n"),
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(
        message.contains("line 4: indicator `net_sales` exists already"),
        "{message}"
    );
    // TOML itself: its line.
    std::fs::write(
        dir.join("my-indicators.toml"),
        "[[indicator]]\nid = \"x\"\nlabel = 3\n",
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(
        message.contains("my-indicators.toml`: TOML parse error at line 3"),
        "{message}"
    );
}

#[test]
fn a_project_adds_its_own_component_query_in_sql() {
    let project = tiny_project();
    let dir = project.path();
    let config = config_arg(dir);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[indicators]\nfile = \"my/indicators.toml\"\n"),
    )
    .unwrap();
    std::fs::create_dir(dir.join("my")).unwrap();
    // The query's file is relative to the catalogue file.
    std::fs::write(
        dir.join("my/returned_lines.sql"),
        "-- Order lines and returned lines per window.\n\
         {% set components = {\"returned_lines\": \"count(*) FILTER (WHERE s.quantity < 0)\", \"lines\": \"count(*)\"} %}\n\
         SELECT w.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %}\n\
         {%- for name in wanted %}, {{ components[name] }} AS {{ name }}{% endfor %}\n\
         FROM _opskpi_spine w JOIN sales s ON s.order_date = w.day\n\
         GROUP BY ALL\n",
    )
    .unwrap();
    let catalogue = "[queries.line_returns]\ndescription = \"order lines and returned lines\"\n\
        dimensions = [\"region\"]\ncomponents = [\"returned_lines\", \"lines\"]\nfile = \"returned_lines.sql\"\n\n\
        [[indicator]]\nid = \"returned_line_share\"\nlabel = \"Returned lines\"\nunit = \"ratio\"\n\
        direction = \"lower\"\nquery = \"line_returns\"\nformula = \"returned_lines / lines\"\n\
        definition = \"Returned lines ÷ all order lines.\"\ntarget = 0.1\nwarning = 0.2\n";
    std::fs::write(dir.join("my/indicators.toml"), catalogue).unwrap();
    // March 2024: O4/1, O4/2, O5/1 and O5's return: 1 of 4. North: O4's two
    // lines, none returned; South: O5 and its return, 1 of 2.
    let output = kpi(
        dir,
        &[
            "returned_line_share",
            "--period",
            "2024-03",
            "--by",
            "region",
            "--format",
            "csv",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(",North,0,"), "{text}");
    assert!(text.contains(",South,0.5,"), "{text}");
    let total = stdout(&kpi(
        dir,
        &[
            "returned_line_share",
            "--period",
            "2024-03",
            "--format",
            "csv",
        ],
    ));
    assert!(total.contains("2024-03,false,0.25,"), "{total}");
    // explain shows the project's SQL.
    let explained = stdout(&opskpi(&[
        "explain",
        "returned_line_share",
        "--config",
        &config,
    ]));
    assert!(
        explained.contains("count(*) FILTER (WHERE s.quantity < 0) AS returned_lines"),
        "{explained}"
    );
    // A template mistake names the file and line, before anything runs.
    std::fs::write(
        dir.join("my/returned_lines.sql"),
        "SELECT 1\n{% for x in %}\n",
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(message.contains("returned_lines.sql"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    // A built-in query name is refused with the catalogue's line.
    std::fs::write(
        dir.join("my/indicators.toml"),
        "[queries.sales]\ndescription = \"x\"\ncomponents = [\"a\"]\nfile = \"returned_lines.sql\"\n",
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(
        message.contains("indicators.toml` line 1: query `sales` exists already"),
        "{message}"
    );
}
