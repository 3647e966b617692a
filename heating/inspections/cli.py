"""``flask follow-up-sample --verify CAMPAIGN_ID``: re-draw a 回头看 campaign's sample from its
stored population and seed and compare it with the stored sample (read-only)."""
from __future__ import annotations

import click
from flask import Flask

from heating.extensions import db
from heating.inspections import campaigns
from heating.inspections.campaign_models import FollowUpCampaign


def register_campaign_cli(app: Flask) -> None:
    @app.cli.command("follow-up-sample")
    @click.option("--verify", "campaign_id", type=click.IntRange(1, 2 ** 31 - 1),
                  required=True, metavar="CAMPAIGN_ID",
                  help="the campaign whose draw is reproduced and compared")
    def follow_up_sample_cmd(campaign_id: int) -> None:
        """Reproduce a follow-up campaign's draw (HMAC-SHA256 of seed and case id within each
        township, plus the first N per installer company) and compare with what is stored.
        Exit status 0 when they agree, 1 when they differ."""
        campaign = db.session.get(FollowUpCampaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"no follow-up campaign {campaign_id}")
        result = campaigns.verify(campaign)
        db.session.rollback()
        if result.ok:
            click.echo(f"campaign {campaign.id} ({campaign.name}): the stored sample of "
                       f"{result.sample_size} case(s) is the one its seed draws from its "
                       f"population of {campaign.population_size}: verified")
            return
        click.echo(f"campaign {campaign.id} ({campaign.name}): NOT verified", err=True)
        for problem in result.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
