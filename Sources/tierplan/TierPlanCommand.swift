import ArgumentParser

/// The `tierplan` command line: finds accounts that need more (or get too little) and plans offers.
@main
struct TierPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tierplan",
        abstract: "SaaS subscription tier upgrade planner on PostgreSQL.",
        discussion: """
            Connection: --database-url, else DATABASE_URL, else libpq's PG* variables, else a local
            cluster under .tierplan/ that tierplan starts itself (see `tierplan db`).
            """,
        subcommands: [DBCommand.self, CatalogCommand.self, AccountsCommand.self, UsageCommand.self,
                      SignalsCommand.self, PlanCommand.self, RunCommand.self, OffersCommand.self, ForecastCommand.self, MetricsCommand.self,
                      ServeCommand.self, UsersCommand.self, TokensCommand.self, DemoCommand.self]
    )
}
